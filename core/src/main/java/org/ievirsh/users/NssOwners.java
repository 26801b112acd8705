package org.ievirsh.users;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;
import java.util.logging.Logger;
import org.ievirsh.posix.Account;
import org.ievirsh.posix.Nss;

/**
 * NssOwners resolves a directory's owner through NSS: files, LDAP, whatever
 * the machine uses. Answers are kept for a while (a found account for
 * {@link #FOUND}, a missing one for {@link #MISSING}): NSS over
 * {@code /etc/passwd} reads the whole file per lookup, and ten thousand
 * students must not cost that on every resync.
 *
 * <p>NSS may block (nslcd or sssd waiting for a slow or dead LDAP server,
 * for their own time limits), so every lookup runs on threads of its own and
 * a caller waits at most {@link #BOUND}; once one lookup was that slow,
 * callers wait only {@link #SLOW_BOUND} for a while ({@link #SLOW}), so one
 * directory's trouble does not slow a discovery over everybody. A caller
 * that gave up gets the account's last answer (an account found once is
 * kept while NSS cannot answer for it, for {@link #KEPT} more), a local
 * account's entry in {@code /etc/passwd} ({@link LocalAccounts}), or none
 * (the directory is unresolved for now: nothing of it is created or
 * removed); when the slow answer arrives, {@link #onLateAnswer} is told.
 */
public final class NssOwners implements OwnerResolver {
    private static final Logger LOG = Logger.getLogger(NssOwners.class.getName());
    static final Duration FOUND = Duration.ofMinutes(10);
    static final Duration MISSING = Duration.ofSeconds(30);
    /** How long a found account outlives the NSS answers that no longer find it (an outage, mostly). */
    static final Duration KEPT = Duration.ofMinutes(10);
    static final Duration BOUND = Duration.ofMillis(250);
    static final Duration SLOW = Duration.ofSeconds(10);
    /** How long a caller waits while NSS is slow: a local account answers in microseconds. */
    static final Duration SLOW_BOUND = Duration.ofMillis(20);

    private final Map<Integer, Answer> answers = new ConcurrentHashMap<>();
    private final Map<Integer, Future<Optional<Owner>>> asking = new ConcurrentHashMap<>();
    /** Up to 16 lookups at once: a few hung on the directory server leave room for the local accounts'. */
    private final ExecutorService nss = pool();
    private final IntFunction<Optional<Owner>> lookUp;
    private final LocalAccounts local;
    private final Duration found;
    private final Duration bound;
    private volatile long slowUntil = System.nanoTime();
    private volatile Runnable late = () -> { };

    /**
     * Answer is one uid's latest answer: the owner (empty: not found), until
     * when it holds, and since when a found owner has been missing.
     */
    private record Answer(Optional<Owner> owner, long until, long missingSince) {
    }

    public NssOwners() {
        this(NssOwners::lookUp, LocalAccounts.system(), FOUND, BOUND);
    }

    NssOwners(IntFunction<Optional<Owner>> lookUp, LocalAccounts local, Duration found, Duration bound) {
        this.lookUp = lookUp;
        this.local = local;
        this.found = found;
        this.bound = bound;
    }

    private static ExecutorService pool() {
        java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(16, 16, 30,
                TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "nss");
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    private static Optional<Owner> lookUp(int uid) {
        return Nss.byUid(uid).filter(account -> Owner.isValidName(account.name()))
                .map(account -> new Owner(account.name(), uid, account.gid(), Nss.groupsOf(account), uid,
                        account.gid(), account.home()));
    }

    @Override
    public void onLateAnswer(Runnable callback) {
        this.late = callback;
    }

    /**
     * Enumerates the accounts once when many uids are not known yet (the
     * first discovery, mostly), within the bound: a directory server that
     * hangs leaves the uids to be asked one by one.
     */
    @Override
    public void prepare(java.util.Set<Integer> uids) {
        long now = System.nanoTime();
        long unknown = uids.stream().filter(uid -> {
            Answer a = answers.get(uid);
            return a == null || now - a.until() >= 0;
        }).count();
        if (unknown < 50 || now - slowUntil < 0) {
            return;
        }
        // The answers are kept by the task itself: an enumeration that outlasts the wait still fills them.
        Future<?> all = nss.submit(() -> {
            Map<Integer, Account> accounts = Nss.enumerate();
            Map<Integer, Optional<String>> groupNames = new HashMap<>();
            long until = System.nanoTime() + found.toNanos();
            for (int uid : uids) {
                Account account = accounts.get(uid);
                if (account != null && Owner.isValidName(account.name())) {
                    answers.put(uid, new Answer(Optional.of(new Owner(account.name(), uid, account.gid(),
                            Nss.groupsOf(account, groupNames), uid, account.gid(), account.home())), until, 0));
                }
            }
        });
        try {
            all.get(bound.toMillis() * 8, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            slow("enumerating the accounts");
        } catch (ExecutionException e) {
            LOG.warning("NSS: enumerating the accounts failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void refresh(int uid) {
        Answer answer = answers.get(uid);
        if (answer != null && answer.owner().isPresent()) {
            // Asked again at the next resolve; meanwhile, and should NSS not answer then, the account is as it was.
            answers.put(uid, new Answer(answer.owner(), System.nanoTime(), answer.missingSince()));
        }
    }

    @Override
    public Optional<Owner> resolve(Path directory, int uid) {
        long now = System.nanoTime();
        Answer answer = answers.get(uid);
        if (answer != null && now - answer.until() < 0) {
            return answer.owner();
        }
        Future<Optional<Owner>> pending = asking.computeIfAbsent(uid, u -> nss.submit(() -> ask(u, now)));
        try {
            long wait = now - slowUntil < 0 ? Math.min(SLOW_BOUND.toNanos(), bound.toNanos()) : bound.toNanos();
            return pending.get(wait, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            slow("uid " + uid);
            // The last answer while NSS cannot give one; for an account never seen, /etc/passwd's (a local
            // student does not wait for the directory server), else none until NSS answers.
            return answer != null ? answer.owner() : local.byUid(uid);
        } catch (ExecutionException e) {
            LOG.warning("NSS: uid " + uid + ": " + e.getCause());
            return answer == null ? Optional.empty() : answer.owner();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return answer == null ? Optional.empty() : answer.owner();
        }
    }

    /** Asks NSS (on an nss thread) and keeps the answer; says so when the caller no longer waited for it. */
    private Optional<Owner> ask(int uid, long asked) {
        try {
            Optional<Owner> owner = lookUp.apply(uid);
            long now = System.nanoTime();
            Answer before = answers.get(uid);
            Answer next;
            if (owner.isPresent()) {
                next = new Answer(owner, now + found.toNanos(), 0);
            } else if (before != null && before.owner().isPresent()) {
                // Found before, missing now: a directory server that cannot answer looks the same as an account
                // removed from it. The account is kept for a while, asked again meanwhile.
                long since = before.missingSince() != 0 ? before.missingSince() : now;
                if (before.missingSince() == 0) {
                    LOG.warning("NSS no longer finds uid " + uid + " (" + before.owner().get().user() + "); it is kept"
                            + " as it was for " + KEPT.toMinutes() + " minutes while NSS is asked again");
                }
                next = now - since < KEPT.toNanos() ? new Answer(before.owner(), now + MISSING.toNanos(), since)
                        : new Answer(Optional.empty(), now + MISSING.toNanos(), 0);
            } else {
                next = new Answer(Optional.empty(), now + MISSING.toNanos(), 0);
            }
            answers.put(uid, next);
            if (now - asked > bound.toNanos()) {
                late.run();
            }
            return next.owner();
        } finally {
            asking.remove(uid);
        }
    }

    private void slow(String what) {
        if (System.nanoTime() - slowUntil >= 0) {
            LOG.warning("NSS is slow (" + what + " took longer than " + bound.toMillis() + " ms): for "
                    + SLOW.toSeconds() + " s nobody waits for it; the last answers are used meanwhile");
        }
        slowUntil = System.nanoTime() + SLOW.toNanos();
    }
}
