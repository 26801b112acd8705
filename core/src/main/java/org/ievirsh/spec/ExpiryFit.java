package org.ievirsh.spec;

import java.time.ZoneId;
import java.util.Optional;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.Expiry;
import org.ievirsh.api.v1.VirtualMachineFile;

/**
 * ExpiryFit checks a valid VM file's {@code spec.expires} against the
 * admin's date for its owner: a student may end a VM earlier than the admin
 * does, never later. The controller and {@code ie-virsh validate} give the
 * same message, at the field's line.
 */
public final class ExpiryFit {
    private ExpiryFit() {
    }

    /** The problem of {@code file}'s own date, when it is later than {@code adminEnd} (both told in {@code zone}). */
    public static Optional<Problem> check(VirtualMachineFile file, Optional<Expiry> adminEnd, ZoneId zone) {
        Optional<Expiry> own = file.vm().expires();
        if (own.isEmpty() || adminEnd.isEmpty() || !own.get().at(zone).isAfter(adminEnd.get().at(zone))) {
            return Optional.empty();
        }
        return Optional.of(file.at("/spec/expires", own.get() + " is later than " + adminEnd.get()
                + ", when the admin's date for you ends your VMs; write " + adminEnd.get()
                + " or an earlier date, or leave spec.expires out"));
    }
}
