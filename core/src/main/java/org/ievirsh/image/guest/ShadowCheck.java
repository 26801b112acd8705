package org.ievirsh.image.guest;

import java.util.ArrayList;
import java.util.List;

/**
 * ShadowCheck finds the accounts of an {@code /etc/shadow} that anyone can
 * log in to: a password of {@code vagrant}, or root with no password at all.
 */
final class ShadowCheck {
    /** The password every Vagrant box ships with. */
    static final String VAGRANT = "vagrant";
    /** Hashes are slow on purpose (yescrypt); a file with more than this many is not tried in full. */
    static final int MAX_HASHES = 200;

    private ShadowCheck() {
    }

    /** One finding per weak account, as a sentence. */
    static List<String> weakAccounts(String shadow) {
        List<String> found = new ArrayList<>();
        int hashes = 0;
        for (String line : shadow.split("\n")) {
            String[] fields = line.split(":", -1);
            if (fields.length < 2 || fields[0].isEmpty()) {
                continue;
            }
            String user = fields[0];
            String hash = fields[1].strip();
            if (hash.isEmpty()) {
                if (user.equals("root")) {
                    found.add("root has an empty password");
                }
                continue;
            }
            if (hash.startsWith("!") || hash.startsWith("*")) {
                continue;
            }
            if (++hashes > MAX_HASHES) {
                found.add("/etc/shadow holds more than " + MAX_HASHES + " passwords; the rest were not checked");
                break;
            }
            if (Crypt.matches(VAGRANT, hash)) {
                found.add("the account " + printable(user) + " has the password \"vagrant\"");
            }
        }
        return found;
    }

    /** A name from the guest, safe to put in a message. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(64).forEach(c -> b.append(c < 0x20 || c == 0x7f ? '?' : Character.toString(c)));
        return b.toString();
    }
}
