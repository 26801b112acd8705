package org.ievirsh.reconcile;

import java.util.List;
import org.ievirsh.blade.Fleet;
import org.ievirsh.users.UserIndex;

/**
 * NothingChanged is the proof that a student's next pass would find what
 * their last clean pass found (no call to make, nothing to wait for, every
 * status written), so that it need not be made: what keeps a resync over ten
 * thousand students cheap. It holds two proofs of that, the cheaper first:
 *
 * <ul>
 *   <li>{@link QuietUser}: a dozen stats of the files the pass rested on,
 *       the student's domains, and the generations of templates,
 *       inspections and addresses, all as they were, before the moment
 *       time alone would change a VM (its expiry);</li>
 *   <li>the facts themselves: every VM's facts (but the clock, except for
 *       where it stands in the VM's lifetime) and the state of
 *       {@code .status}, equal to those of the clean pass.</li>
 * </ul>
 *
 * Either proof is dropped as soon as it fails.
 */
final class NothingChanged {
    private volatile QuietUser quiet;
    private volatile List<Object> facts;

    /** True when a few stats tell that nothing the last clean pass rested on changed. */
    boolean byStats(UserIndex.Entry entry, Fleet fleet, long templates, long inspections, long addresses,
                    java.time.Instant now) {
        QuietUser proof = quiet;
        if (proof == null) {
            return false;
        }
        if (proof.holds(entry, fleet, templates, inspections, addresses, now)) {
            return true;
        }
        quiet = null;
        return false;
    }

    /** The moment the stat proof stops standing by the clock alone, if any. */
    java.util.Optional<java.time.Instant> until() {
        QuietUser proof = quiet;
        return proof == null ? java.util.Optional.empty() : proof.until();
    }

    /** True when the facts gathered now are those of the last clean pass. */
    boolean byFacts(List<Object> gathered) {
        return gathered.equals(facts);
    }

    /** The pass found everything as before: a stat proof may stand from now on, if it can be made. */
    void stillClean(java.util.Optional<QuietUser> proof) {
        proof.ifPresent(q -> quiet = q);
    }

    /** Something changed: both proofs are gone. */
    void changed() {
        quiet = null;
        facts = null;
    }

    /** A pass ended clean on these facts, and (if it can be made) this stat proof. */
    void clean(List<Object> gathered, java.util.Optional<QuietUser> proof) {
        facts = gathered;
        quiet = proof.orElse(null);
    }

    /** True when the stat proof stands now (a test's view of "quiet"). */
    boolean quiet() {
        return quiet != null;
    }
}
