package org.ievirsh.reconcile;

/**
 * Action is one step the planner asks for: a libvirt call on one blade, a
 * look inside the VM's image or its base (which runs on its own, off the
 * reconcile), or a file of the VM's made as its student (its disk from a
 * base, its NoCloud seed).
 */
public sealed interface Action {

    /** The blade the call is made on; empty for an action that is not a libvirt call. */
    String blade();

    /** Look inside the image (at {@code version}) before its first start, or before a start after it changed. */
    record Inspect(String version) implements Action {
        @Override
        public String blade() {
            return "";
        }
    }

    /** Look inside the admin's base image {@code name} at {@code version}, as nobody. */
    record InspectBase(String name, String path, String version) implements Action {
        @Override
        public String blade() {
            return "";
        }
    }

    /**
     * Make the VM's disk {@code image} (in the student's image directory, as
     * the student) as an overlay of the base at {@code base}, of
     * {@code size} bytes.
     */
    record MakeOverlay(String image, String base, long size) implements Action {
        @Override
        public String blade() {
            return "";
        }
    }

    /** Make the VM's NoCloud seed again (as the student) from what it is made of now ({@code inputs}). */
    record MakeSeed(String inputs) implements Action {
        @Override
        public String blade() {
            return "";
        }
    }

    /** Define (or redefine) a domain from rendered XML. */
    record Define(String blade, String uuid, String xml) implements Action {
    }

    /**
     * Start a defined domain.
     *
     * @param afterFailure it stopped without being asked to: counts towards crash-loop back-off
     */
    record Start(String blade, String uuid, boolean afterFailure) implements Action {
    }

    /** Ask the guest to power off (ACPI). */
    record Shutdown(String blade, String uuid) implements Action {
    }

    /** Force the domain off, after the grace period. */
    record Destroy(String blade, String uuid) implements Action {
    }

    /**
     * Move the domain from {@code blade} to {@code to} (a draining blade's VM):
     * live when it runs, else its definition. It runs on its own, off the
     * reconcile ({@link org.ievirsh.blade.Migrations}).
     */
    record Migrate(String blade, String to, String uuid, boolean live) implements Action {
    }

    /** Remove the definition; never the image. */
    record Undefine(String blade, String uuid) implements Action {
    }
}
