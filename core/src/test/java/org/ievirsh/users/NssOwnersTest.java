package org.ievirsh.users;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NssOwnersTest: NSS as an LDAP client makes it, fast for local accounts
 * and hanging for the directory's while its server hangs. A caller never
 * waits past the bound (nor at all once NSS was that slow), an account
 * found before is kept while NSS cannot answer, a new one is unresolved
 * until the answer arrives, and then the controller is told.
 */
class NssOwnersTest {
    private static final Path DIR = Path.of("/home/x/ie-virsh");
    private final CountDownLatch ldapHangs = new CountDownLatch(1);
    private final Map<Integer, Boolean> directory = new ConcurrentHashMap<>(Map.of(1000, false, 2000, true, 3000, true));
    private volatile boolean hanging;
    @TempDir
    Path etc;
    private LocalAccounts local;

    @BeforeEach
    void files() throws Exception {
        // uid 5000 is in /etc/passwd only, and, as getgrouplist asks LDAP too, its lookup hangs with the server
        Files.writeString(etc.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nlocal5:x:5000:5000::/home/l:/bin/sh\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\nlocal5:x:5000:\nlab:x:5100:other,local5\n");
        local = new LocalAccounts(etc.resolve("passwd"), etc.resolve("group"));
        directory.put(5000, true);
    }

    private Optional<Owner> lookUp(int uid) {
        Boolean ldap = directory.get(uid);
        if (ldap == null) {
            return Optional.empty();
        }
        if (ldap && hanging) {
            try {
                ldapHangs.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return Optional.of(new Owner("u" + uid, uid, uid, List.of("g"), uid, uid));
    }

    @Test
    void aHangingDirectoryServerHoldsNoCallerAndChangesNoKnownAccount() throws Exception {
        NssOwners owners = new NssOwners(this::lookUp, local, Duration.ofMillis(1), Duration.ofMillis(200));
        AtomicInteger late = new AtomicInteger();
        owners.onLateAnswer(late::incrementAndGet);
        assertEquals("u3000", owners.resolve(DIR, 3000).orElseThrow().user(), "found while the server answers");
        Thread.sleep(5);  // its answer is stale now (held 1 ms): the next resolve asks NSS again

        hanging = true;
        long started = System.nanoTime();
        assertEquals("u3000", owners.resolve(DIR, 3000).orElseThrow().user(), "kept while NSS cannot answer");
        assertEquals(Optional.empty(), owners.resolve(DIR, 2000), "never found: unresolved for now");
        Owner fromFiles = owners.resolve(DIR, 5000).orElseThrow();
        assertEquals("local5", fromFiles.user(), "a local account never waits for the directory server");
        assertEquals(List.of("local5", "lab"), fromFiles.groups());
        for (int i = 0; i < 50; i++) {
            assertEquals("u1000", owners.resolve(DIR, 1000).orElseThrow().user(), "a local account");
        }
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(took < 30_000, "no caller waited for the hanging server (" + took + " ms)");
        assertEquals(0, late.get());

        ldapHangs.countDown();
        await().atMost(Duration.ofSeconds(20)).until(() -> late.get() >= 1);
        await().atMost(Duration.ofSeconds(20)).until(() -> owners.resolve(DIR, 2000).isPresent());
    }

    @Test
    void anAccountMissingAfterItWasFoundIsKeptForAWhileThenGone() throws Exception {
        NssOwners owners = new NssOwners(this::lookUp, local, Duration.ofMillis(1), Duration.ofSeconds(5));
        assertTrue(owners.resolve(DIR, 3000).isPresent());
        directory.remove(3000);  // the directory server says "no such user" (down, or the account removed)
        Thread.sleep(5);
        assertEquals("u3000", owners.resolve(DIR, 3000).orElseThrow().user(), "kept for NssOwners.KEPT");
        assertEquals(Optional.empty(), owners.resolve(DIR, 4000), "never known: missing");
    }
}
