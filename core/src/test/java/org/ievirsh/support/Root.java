package org.ievirsh.support;

import org.ievirsh.posix.Nss;

/** Root is for tests that act as the controller does: as root (chown, other users' files). */
public final class Root {
    private Root() {
    }

    /** Fails the test unless it runs as root; `./dev test` and CI run the tests as root. */
    public static void require() {
        if (Nss.effectiveUid() != 0) {
            throw new AssertionError("this test needs root (it changes file owners); run the tests with ./dev test");
        }
    }
}
