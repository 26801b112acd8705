package org.ievirsh.api.v1;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class VmStatusTest {

    private static VmStatus status(String message, String readyReason, List<VmStatus.Address> addresses,
                                   String time) {
        return new VmStatus("web", new VmStatus.Owner("alice", 1001), Phase.Running, message,
                List.of(new Condition(Condition.VALID, "True", "Valid", "", time),
                        new Condition(Condition.READY, "True", readyReason, "running", time)),
                "blade01", "alice-web", "u-u-i-d", "52:54:00:00:00:01", "10.0.0.5", addresses, 2, "2GiB",
                "standard", "/srv/web.qcow2", null, "sha256:x", time);
    }

    @Test
    void statusesThatDifferOnlyInTheirTimesSayTheSame() {
        VmStatus first = status("running", "Running", null, "2026-12-03T10:00:00Z");
        assertTrue(first.sameAs(status("running", "Running", null, "2026-12-03T11:00:00Z")));
        assertTrue(first.sameAs(status("running", "Running", List.of(), null)), "no addresses is no addresses");
    }

    @Test
    void anyOtherDifferenceIsNews() {
        VmStatus first = status("running", "Running", null, "2026-12-03T10:00:00Z");
        assertFalse(first.sameAs(null));
        assertFalse(first.sameAs(status("running on blade02", "Running", null, "2026-12-03T10:00:00Z")));
        assertFalse(first.sameAs(status("running", "Started", null, "2026-12-03T10:00:00Z")));
        assertFalse(first.sameAs(status("running", "Running",
                List.of(new VmStatus.Address("10.0.0.5", "52:54:00:00:00:01", "lease")), "2026-12-03T10:00:00Z")));
        assertFalse(first.sameAs(first.with(Phase.Stopped, "running", first.conditions())));
        assertFalse(first.sameAs(first.with(Phase.Running, "running", first.conditions().subList(0, 1))));
    }
}
