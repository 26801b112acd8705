package org.ievirsh.course;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ievirsh.posix.Account;
import org.ievirsh.posix.Nss;
import org.ievirsh.users.Owner;

/**
 * CourseMembers asks NSS (files, LDAP) who is in a POSIX group now: its
 * listed members and the accounts whose primary group it is. Asked at each
 * round, never kept: a student added to the group gets their VMs at the
 * next round.
 */
public interface CourseMembers {

    /** The accounts of {@code group} with a uid of at least {@code minUid}; empty when NSS does not know it now. */
    Optional<List<Account>> of(String group, int minUid);

    /** Whether the account {@code user} (primary group {@code gid}) is in {@code group} now. */
    boolean isMember(String user, int gid, String group);

    /** NSS itself. */
    static CourseMembers nss() {
        return new CourseMembers() {
            @Override
            public Optional<List<Account>> of(String group, int minUid) {
                Optional<Nss.Group> found = Nss.group(group);
                if (found.isEmpty()) {
                    return Optional.empty();
                }
                Map<String, Account> members = new LinkedHashMap<>();
                for (String name : found.get().members()) {
                    if (Owner.isValidName(name) && !members.containsKey(name)) {
                        Nss.byName(name).filter(a -> a.uid() >= minUid).ifPresent(a -> members.put(name, a));
                    }
                }
                for (Account account : Nss.enumerate().values()) {
                    if (account.gid() == found.get().gid() && account.uid() >= minUid
                            && Owner.isValidName(account.name())) {
                        members.putIfAbsent(account.name(), account);
                    }
                }
                return Optional.of(new ArrayList<>(members.values()));
            }

            @Override
            public boolean isMember(String user, int gid, String group) {
                return Nss.byName(user).map(a -> Nss.groupsOf(a).contains(group)).orElse(false);
            }
        };
    }
}
