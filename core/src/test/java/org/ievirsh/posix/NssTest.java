package org.ievirsh.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ievirsh.support.Commands;
import org.junit.jupiter.api.Test;

/** NSS as this machine has it: the accounts enumerated are those looked up, their groups named alike. */
class NssTest {

    @Test
    void enumeratedAccountsAreTheOnesGetentKnows() {
        Map<Integer, Account> all = Nss.enumerate();
        assertEquals("root", all.get(0).name());
        for (String line : Commands.ok("getent", "passwd").split("\n")) {
            String[] f = line.split(":", -1);
            int uid = Integer.parseInt(f[2]);
            Account account = all.get(uid);
            assertEquals(new Account(f[0], uid, Integer.parseInt(f[3]), f[5]), account, line);
            assertEquals(Optional.of(account), Nss.byUid(uid), f[0]);
        }
    }

    @Test
    void theGroupsOfAnAccountAreTheOnesIdNames() {
        for (Account account : Nss.enumerate().values()) {
            List<String> id = List.of(Commands.ok("id", "-Gn", account.name()).strip().split(" "));
            assertEquals(new java.util.TreeSet<>(id), new java.util.TreeSet<>(Nss.groupsOf(account)), account.name());
            assertEquals(id.get(0), Nss.groupsOf(account).get(0), account.name() + ": the primary group first");
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
