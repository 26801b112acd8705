package org.ievirsh.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** NSS as this machine has it: the accounts enumerated are those looked up, their groups named alike. */
class NssTest {

    @Test
    void enumeratedAccountsAreTheOnesLookedUpOneByOne() {
        Map<Integer, Account> all = Nss.enumerate();
        assertEquals("root", all.get(0).name());
        for (Account account : all.values()) {
            assertEquals(Optional.of(account), Nss.byUid(account.uid()), account.name());
        }
    }

    @Test
    void groupNamesSharedAcrossAccountsGiveTheSameGroupsAsLookingEachUp() {
        Map<Integer, Optional<String>> shared = new HashMap<>();
        Map<Integer, Account> all = Nss.enumerate();
        for (Account account : all.values()) {
            List<String> alone = Nss.groupsOf(account);
            assertEquals(alone, Nss.groupsOf(account, shared), account.name());
            Nss.groupName(account.gid()).ifPresent(primary -> assertEquals(primary, alone.get(0),
                    account.name() + ": the primary group comes first"));
        }
        assertEquals(Optional.of("root"), shared.get(0));
        assertTrue(shared.size() < all.size() * 2, "each group asked for once: " + shared.size());
        assertFalse(Nss.groupsOf(all.get(0), shared).isEmpty());
    }
}
