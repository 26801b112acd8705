package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import java.util.Optional;
import org.ievirsh.template.DomainIdentity;
import org.junit.jupiter.api.Test;

/** NamingPlannerTest: a VM's domain name and MACs, row by row. */
class NamingPlannerTest {
    private static final List<String> OWN = DomainIdentity.macsFor("alice", 1001, "web", 2, mac -> false);

    @Test
    void anExistingDomainKeepsItsNameEvenIfTakenElsewhere() {
        assertEquals("alice-web-old", NamingPlanner.domainName(Optional.of("alice-web-old"), "alice", "web",
                name -> true));
    }

    @Test
    void aNewDomainIsUserDashVmUnlessAnotherStudentsDomainHasThatName() {
        assertEquals("alice-web", NamingPlanner.domainName(Optional.empty(), "alice", "web", name -> false));
        String fallback = NamingPlanner.domainName(Optional.empty(), "alice", "web", "alice-web"::equals);
        assertEquals(DomainIdentity.fallbackName("alice", "web"), fallback);
        assertNotEquals("alice-web", fallback);
    }

    @Test
    void aDomainKeepsItsMacsWhileTheyFitAndNoOtherVmHasOne() {
        List<String> kept = List.of("52:54:00:aa:bb:01", "52:54:00:aa:bb:02");
        assertEquals(kept, NamingPlanner.macs(kept, 2, mac -> false, "alice", 1001, "web"));
    }

    @Test
    void macsThatNoLongerFitTheTemplateOrClashAreTheVmsOwnAgain() {
        List<String> kept = List.of("52:54:00:aa:bb:01");
        assertEquals(OWN, NamingPlanner.macs(kept, 2, mac -> false, "alice", 1001, "web"), "the template has 2 NICs");
        assertEquals(OWN, NamingPlanner.macs(List.of("52:54:00:aa:bb:01", "52:54:00:aa:bb:02"), 2,
                "52:54:00:aa:bb:02"::equals, "alice", 1001, "web"), "one is another VM's");
        assertEquals(OWN, NamingPlanner.macs(List.of(), 2, mac -> false, "alice", 1001, "web"), "a new domain");
    }

    @Test
    void aNewMacSkipsOneInUse() {
        List<String> macs = NamingPlanner.macs(List.of(), 2, OWN.get(0)::equals, "alice", 1001, "web");
        assertFalse(macs.contains(OWN.get(0)), macs.toString());
        assertEquals(2, macs.size());
    }
}
