package org.ievirsh.users;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.ievirsh.posix.Account;
import org.ievirsh.posix.Nss;

/**
 * NssOwners resolves a directory's owner through NSS: files, LDAP, whatever
 * the machine uses. Answers are kept for a while (a found account for
 * {@link #FOUND}, a missing one for {@link #MISSING}): NSS over
 * {@code /etc/passwd} reads the whole file per lookup, and ten thousand
 * students must not cost that on every resync.
 */
public final class NssOwners implements OwnerResolver {
    static final Duration FOUND = Duration.ofMinutes(10);
    static final Duration MISSING = Duration.ofSeconds(30);

    private final Map<Integer, Answer> answers = new ConcurrentHashMap<>();

    private record Answer(Optional<Owner> owner, long until) {
    }

    /** Enumerates the accounts once when many uids are not known yet (the first discovery, mostly). */
    @Override
    public void prepare(java.util.Set<Integer> uids) {
        long now = System.nanoTime();
        long unknown = uids.stream().filter(uid -> {
            Answer a = answers.get(uid);
            return a == null || now - a.until() >= 0;
        }).count();
        if (unknown < 50) {
            return;
        }
        Map<Integer, Account> all = Nss.enumerate();
        Map<Integer, Optional<String>> groupNames = new HashMap<>();
        for (int uid : uids) {
            Account account = all.get(uid);
            if (account != null && Owner.isValidName(account.name())) {
                answers.put(uid, new Answer(Optional.of(new Owner(account.name(), uid, account.gid(),
                        Nss.groupsOf(account, groupNames), uid, account.gid())), now + FOUND.toNanos()));
            }
        }
    }

    @Override
    public Optional<Owner> resolve(Path directory, int uid) {
        long now = System.nanoTime();
        Answer answer = answers.get(uid);
        if (answer != null && now - answer.until() < 0) {
            return answer.owner();
        }
        Optional<Owner> owner = Nss.byUid(uid)
                .filter(account -> Owner.isValidName(account.name()))
                .map(account -> new Owner(account.name(), uid, account.gid(), Nss.groupsOf(account), uid,
                        account.gid()));
        answers.put(uid, new Answer(owner, now + (owner.isPresent() ? FOUND : MISSING).toNanos()));
        return owner;
    }
}
