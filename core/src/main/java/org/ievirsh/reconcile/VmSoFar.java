package org.ievirsh.reconcile;

import java.util.Optional;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.quota.Admission;

/**
 * VmSoFar is what the gatherer knows of a VM when it asks for its guest's
 * and its disk's facts ({@link GuestFacts}, {@link DiskGathering}): a value
 * they read and never change; they hand back facts of their own.
 * {@code domain}, {@code admission} and {@code image} are null when there is
 * none (no domain; a file that is not valid; an image not checked).
 */
record VmSoFar(String name, String key, Desired desired, ObservedDomain domain, Admission.Verdict admission,
               ImageVerdict image, Optional<ControllerConfig.Course> course) {

    boolean admitted() {
        return desired instanceof Desired.Valid && admission != null && admission.admitted() && image != null;
    }
}
