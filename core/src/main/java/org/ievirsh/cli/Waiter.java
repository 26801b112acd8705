package org.ievirsh.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.Reasons;
import org.ievirsh.api.v1.VmStatus;

/**
 * Waiter watches a VM's status until it shows that a change took effect: the
 * status describes the new file (same spec hash) and the phase is the one
 * expected. It prints progress on a terminal and says why when it fails.
 */
final class Waiter {
    /** EXIT_TIMEOUT is the exit code of a --wait that ran out of time. */
    static final int EXIT_TIMEOUT = 3;
    private static final Set<Phase> FAILED = Set.of(Phase.Invalid, Phase.QuotaExceeded, Phase.ImageRejected,
            Phase.Unschedulable, Phase.Error, Phase.CrashLoopBackOff);
    private static final Set<Phase> SETTLED = Set.of(Phase.Running, Phase.Stopped);

    private Waiter() {
    }

    /**
     * Waits until the status of {@code vm} describes {@code specHash} in phase
     * {@code expected} (or, with a null hash, until the status is gone).
     * Returns the exit code: 0 done, 1 failed, 3 timed out.
     */
    static int await(Path dir, String vm, String specHash, Phase expected, Duration timeout, PrintStream out)
            throws InterruptedException {
        boolean terminal = System.console() != null;
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (true) {
            Optional<VmStatus> status = StatusReader.read(dir, vm);
            if (specHash == null) {
                if (status.isEmpty() && !StatusReader.hasFile(dir, vm)) {
                    out.println(vm + ": removed");
                    return 0;
                }
            } else if (status.isPresent() && specHash.equals(status.get().observedSpecHash())) {
                VmStatus s = status.get();
                if (s.phase() == expected) {
                    out.println(vm + ": " + s.phase() + (s.blade() != null ? " on " + s.blade() : ""));
                    return 0;
                }
                if (expected == Phase.Stopped && s.phase() == Phase.ImageRejected && s.condition("ImageReady") != null
                        && "ImageNotFound".equals(s.condition("ImageReady").reason())) {
                    // A halted VM whose image is not uploaded yet is what was asked: it waits for its image.
                    out.println(vm + ": written, halted; it waits for its image: " + s.message());
                    return 0;
                }
                if (FAILED.contains(s.phase()) || SETTLED.contains(s.phase())) {
                    out.println(vm + ": " + s.phase() + ": " + s.message());
                    return 1;
                }
            }
            String now = status.map(s -> s.phase() + (s.message() == null ? "" : ": " + s.message())).orElse("no status yet");
            if (terminal && !now.equals(last)) {
                out.println(vm + ": " + now);
                last = now;
            }
            if (System.nanoTime() > deadline) {
                out.println(vm + ": timed out after " + timeout.toSeconds() + "s; the status says " + now
                        + (status.isEmpty() ? " (is the controller running?)" : ""));
                return EXIT_TIMEOUT;
            }
            Thread.sleep(200);
        }
    }

    /**
     * Waits until the status of {@code vm} describes {@code specHash} and says
     * its domain does not run (condition Ready false: halted, or not defined).
     * Returns the exit code: 0 at rest, 3 timed out.
     */
    static int awaitAtRest(Path dir, String vm, String specHash, Duration timeout, PrintStream out)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (true) {
            Optional<VmStatus> status = StatusReader.read(dir, vm);
            if (status.isPresent() && specHash.equals(status.get().observedSpecHash())) {
                Condition ready = status.get().condition(Condition.READY);
                if (ready != null && "False".equals(ready.status()) && status.get().phase() != Phase.Unknown
                        && (Reasons.HALTED.equals(ready.reason()) || Reasons.NOT_DEFINED.equals(ready.reason()))) {
                    out.println(vm + ": " + status.get().phase() + ", not running");
                    return 0;
                }
            }
            String now = status.map(s -> s.phase() + (s.message() == null ? "" : ": " + s.message())).orElse("no status yet");
            if (!now.equals(last)) {
                out.println(vm + ": " + now);
                last = now;
            }
            if (System.nanoTime() > deadline) {
                out.println(vm + ": did not stop within " + timeout.toSeconds() + "s; the status says " + now
                        + (status.isEmpty() ? " (is the controller running?)" : ""));
                return EXIT_TIMEOUT;
            }
            Thread.sleep(200);
        }
    }

    /** The --wait option's seconds: absent means no wait, a bare --wait means 120 seconds. */
    static Optional<Duration> parse(Integer seconds) {
        return seconds == null ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
    }
}
