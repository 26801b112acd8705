package org.ievirsh.spec;

import java.util.Optional;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.Quantities;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.image.BaseImages;

/**
 * BaseFit checks a valid VM file's {@code spec.baseImage} and
 * {@code spec.disk} against the admin's catalog of base images, as the
 * controller does before it makes the disk: the base is there and serves
 * VMs, and the disk is at least as large as it. The controller and
 * {@code ie-virsh validate} give the same messages.
 */
public final class BaseFit {
    private BaseFit() {
    }

    /** Why no disk can be made from base {@code name}: there is none of that name. */
    public static String noSuchBase(String name) {
        return "there is no base image " + name + " (ie-virsh bases lists them)";
    }

    /** Why no disk can be made from base {@code name}: the catalog refuses it, for {@code why}. */
    public static String refusedBase(String name, String why) {
        return "the base image " + name + " serves no VM now: " + why;
    }

    /** Why a disk of {@code size} bytes cannot be made from base {@code name} of {@code baseSize} bytes. */
    public static String diskTooSmall(String name, long size, long baseSize) {
        return "spec.disk " + Quantities.readable(size) + " is smaller than the base image " + name + " ("
                + Quantities.readable(baseSize) + "): write at least that, or leave spec.disk out";
    }

    /** The problem of {@code file}'s base, if any, against {@code catalog} (read already). */
    public static Optional<Problem> check(VirtualMachineFile file, BaseImages catalog) {
        Optional<String> name = file.vm().baseImage();
        if (name.isEmpty()) {
            return Optional.empty();
        }
        Optional<BaseImages.Base> base = catalog.find(name.get());
        if (base.isEmpty()) {
            return Optional.of(file.at("/spec/baseImage", noSuchBase(name.get())));
        }
        if (!base.get().ready()) {
            return Optional.of(file.at("/spec/baseImage", refusedBase(name.get(), base.get().rejected().get())));
        }
        long size = file.vm().diskBytes().orElse(base.get().virtualSize());
        if (size < base.get().virtualSize()) {
            return Optional.of(file.at("/spec/disk", diskTooSmall(name.get(), size, base.get().virtualSize())));
        }
        return Optional.empty();
    }
}
