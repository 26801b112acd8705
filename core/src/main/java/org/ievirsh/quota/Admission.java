package org.ievirsh.quota;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ievirsh.api.v1.Quantities;

/**
 * Admission decides which of one user's VMs count against the quota, and
 * which of those may run. It is a pure function of its inputs:
 *
 * <ul>
 *   <li>a VM that has a domain is admitted whatever else is true, so that no
 *       later file and no lowered quota ever evicts it;</li>
 *   <li>the others are admitted oldest first (file age, then name) while they
 *       fit every limit; one that does not fit waits, with the numbers;</li>
 *   <li>of the admitted VMs that want to run, those running keep running, and
 *       others start, oldest first, while fewer than {@code runningVms} run
 *       (a VM being stopped still runs until its domain is off).</li>
 * </ul>
 */
public final class Admission {

    private Admission() {
    }

    /**
     * Candidate is one valid VM file of the user.
     *
     * @param age        order of arrival: the file's birth time (smaller is older)
     * @param hasDomain  a domain exists for it (it was admitted before)
     * @param wantsToRun its run strategy wants it running now
     * @param running    its domain is running now
     */
    public record Candidate(String name, int vcpus, long memoryBytes, long age, boolean hasDomain, boolean wantsToRun,
                            boolean running) {
    }

    /**
     * Verdict of one VM: admitted or not, may run or not, and the message
     * when not; {@code course}: the course whose quota it counts against
     * (empty: the student's own).
     */
    public record Verdict(boolean admitted, boolean mayRun, String message, java.util.Optional<String> course) {
        public Verdict(boolean admitted, boolean mayRun, String message) {
            this(admitted, mayRun, message, java.util.Optional.empty());
        }

        /** The same verdict, counted against {@code course}'s quota. */
        public Verdict in(java.util.Optional<String> course) {
            return new Verdict(admitted, mayRun, message, course);
        }
    }

    public static Map<String, Verdict> decide(List<Candidate> candidates, QuotaLimits limits) {
        List<Candidate> ordered = new ArrayList<>(candidates);
        ordered.sort(Comparator.comparing((Candidate c) -> !c.hasDomain()).thenComparingLong(Candidate::age)
                .thenComparing(Candidate::name));
        List<Candidate> admitted = new ArrayList<>();
        Map<String, String> refused = new LinkedHashMap<>();
        int vcpus = 0;
        long memory = 0;
        for (Candidate c : ordered) {
            if (c.hasDomain()) {
                admitted.add(c);
                vcpus += c.vcpus();
                memory += c.memoryBytes();
                continue;
            }
            String why = null;
            if (admitted.size() + 1 > limits.vms()) {
                why = admitted.size() + " of " + limits.vms() + " VMs in use: "
                        + QuotaLimits.join(admitted, Candidate::name);
            } else if (vcpus + c.vcpus() > limits.vcpus()) {
                why = c.name() + " needs " + c.vcpus() + " vCPUs, and " + vcpus + " of " + limits.vcpus()
                        + " vCPUs are in use" + usedBy(admitted);
            } else if (memory + c.memoryBytes() > limits.memoryBytes()) {
                why = c.name() + " needs " + Quantities.format(c.memoryBytes()) + " of memory, and "
                        + Quantities.format(memory) + " of " + Quantities.format(limits.memoryBytes())
                        + " are in use" + usedBy(admitted);
            }
            if (why != null) {
                refused.put(c.name(), "over quota: " + why + "; remove a VM file or ask an admin for more");
                continue;
            }
            admitted.add(c);
            vcpus += c.vcpus();
            memory += c.memoryBytes();
        }

        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        refused.forEach((name, why) -> verdicts.put(name, new Verdict(false, false, why)));
        // A VM counts as running until its domain is off, also while it is being stopped.
        List<Candidate> toRun = new ArrayList<>();
        for (Candidate c : admitted) {
            if (c.running()) {
                toRun.add(c);
            }
        }
        int overLimit = Math.max(0, admitted.size() - limits.vms());
        for (Candidate c : admitted) {
            String note = overLimit > 0 ? "the quota was lowered to " + limits.vms() + " VMs and you have "
                    + admitted.size() + "; new VMs wait until you are under it" : "";
            if (!c.wantsToRun() || c.running()) {
                verdicts.put(c.name(), new Verdict(true, c.wantsToRun(), note));
                continue;
            }
            if (toRun.size() < limits.runningVms()) {
                toRun.add(c);
                verdicts.put(c.name(), new Verdict(true, true, note));
            } else {
                verdicts.put(c.name(), new Verdict(true, false, toRun.size() + " of " + limits.runningVms()
                        + " running VMs in use: " + QuotaLimits.join(toRun, Candidate::name)
                        + "; stop one (ie-virsh destroy NAME) and this one starts"));
            }
        }
        return verdicts;
    }

    private static String usedBy(List<Candidate> admitted) {
        return admitted.isEmpty() ? "" : " by " + QuotaLimits.join(admitted, Candidate::name);
    }
}
