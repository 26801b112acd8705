package org.ievirsh.snapshot;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * SnapshotPlanner decides what a student's snapshot request does (the
 * README's "Snapshots"), from what was gathered of the VM: pure. A running
 * VM is snapshotted, reverted and cleaned through libvirt (QEMU itself
 * writes the image, as the student); a stopped one by {@code qemu-img} run
 * as the student. Nothing is done to a VM that is moving, on a blade being
 * drained, or expired: a snapshot is whole or not made.
 */
public final class SnapshotPlanner {
    private SnapshotPlanner() {
    }

    /** Op is what the student asks. */
    public enum Op {
        CREATE("snapshot"), LIST("snapshots"), REVERT("revert"), DELETE("delete");

        private final String metric;

        Op(String metric) {
            this.metric = metric;
        }

        /** The op's name in {@code ievirsh_snapshot_requests_total{op}}. */
        public String metric() {
            return metric;
        }
    }

    /**
     * Facts is what is known of the VM now.
     *
     * @param hold     why nothing may be done now (moving, draining, expired), if so
     * @param running  its domain runs
     * @param inImage  the snapshots its image holds (qemu-img's view)
     * @param recorded the snapshots libvirt keeps a record of (those taken running, on this blade)
     */
    public record Facts(String vm, Optional<String> hold, boolean running, List<Snapshot> inImage,
                        Set<String> recorded, int maxPerVm) {
    }

    /** Snapshot is one internal snapshot of the image: its name, when taken, and its memory state's size. */
    public record Snapshot(String name, long createdEpochSeconds, long memoryBytes) {
    }

    /** Plan is the step to take, or why none. */
    public sealed interface Plan {
        /** A libvirt call on the running domain: create, revert or delete {@code label}. */
        record Libvirt(Op op, String label) implements Plan {
        }

        /** {@code qemu-img snapshot <flag> label image}, as the student; then forget libvirt's record if any. */
        record QemuImg(String flag, String label, boolean forgetRecord) implements Plan {
        }

        /** Answer with the list. */
        record List() implements Plan {
        }

        /** Refused: the message says why and what to do. */
        record Refused(String message) implements Plan {
        }
    }

    public static Plan plan(Op op, String label, Facts f) {
        if (op == Op.LIST) {
            return new Plan.List();
        }
        if (f.hold().isPresent()) {
            return new Plan.Refused(f.hold().get());
        }
        boolean exists = f.inImage().stream().anyMatch(s -> s.name().equals(label));
        switch (op) {
            case CREATE:
                if (exists) {
                    return new Plan.Refused(f.vm() + " has a snapshot " + label + " already: choose another label,"
                            + " or delete that one first (ie-virsh snapshot " + f.vm() + " " + label + " --delete)");
                }
                if (f.inImage().size() >= f.maxPerVm()) {
                    return new Plan.Refused(f.vm() + " has " + f.inImage().size() + " snapshots, the most allowed"
                            + " (snapshots.maxPerVm " + f.maxPerVm() + "): delete one first (ie-virsh snapshots "
                            + f.vm() + " lists them)");
                }
                return f.running() ? new Plan.Libvirt(Op.CREATE, label) : new Plan.QemuImg("-c", label, false);
            case REVERT:
                if (!exists) {
                    return new Plan.Refused(noSuch(f.vm(), label));
                }
                if (f.running()) {
                    return f.recorded().contains(label) ? new Plan.Libvirt(Op.REVERT, label)
                            : new Plan.Refused(label + " was taken while " + f.vm() + " was stopped (or before it"
                            + " moved to another blade): stop it (ie-virsh destroy " + f.vm() + " --wait), then"
                            + " revert, then start it");
                }
                return new Plan.QemuImg("-a", label, false);
            case DELETE:
                if (!exists) {
                    return new Plan.Refused(noSuch(f.vm(), label));
                }
                if (f.running()) {
                    return f.recorded().contains(label) ? new Plan.Libvirt(Op.DELETE, label)
                            : new Plan.Refused(label + " can be deleted once " + f.vm() + " is stopped"
                            + " (ie-virsh destroy " + f.vm() + " --wait)");
                }
                return new Plan.QemuImg("-d", label, f.recorded().contains(label));
            default:
                throw new IllegalArgumentException(op.name());
        }
    }

    private static String noSuch(String vm, String label) {
        return "there is no snapshot " + label + " of " + vm + " (ie-virsh snapshots " + vm + " lists them)";
    }
}
