package org.ievirsh.image.guest;

import com.sun.jna.Native;

/**
 * Crypt is the system's {@code crypt(3)} from libxcrypt, which knows every
 * hash a Linux {@code /etc/shadow} holds ({@code $1$}, {@code $5$},
 * {@code $6$}, yescrypt {@code $y$}, ...). {@code crypt} keeps its result in
 * static storage, so calls are serialised.
 */
final class Crypt {
    private static final Object LOCK = new Object();

    static {
        // The runtime library itself: the unversioned libcrypt.so comes only with the -dev package.
        Native.register(Crypt.class, "libcrypt.so.1");
    }

    private Crypt() {
    }

    private static native String crypt(String phrase, String setting);

    /**
     * True when {@code phrase} hashes to {@code hash}, a shadow password field
     * that is set and not locked (ShadowCheck skips the others).
     */
    static boolean matches(String phrase, String hash) {
        synchronized (LOCK) {
            String computed = crypt(phrase, hash);
            return computed != null && !computed.startsWith("*") && computed.equals(hash);
        }
    }
}
