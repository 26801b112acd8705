package org.ievirsh.image.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * SshdConfig is what matters here of one {@code sshd_config} file: whether
 * it lets passwords in, where it looks for authorized keys, and what it
 * includes. sshd takes the first value of a keyword, so the first one wins
 * here too; {@code Include} files count where they appear.
 */
record SshdConfig(Optional<Boolean> passwordAuthentication, List<String> authorizedKeysFiles, List<Line> lines) {

    /** One line in order: a setting of this file, or an include to read in its place. */
    record Line(String keyword, List<String> values) {
    }

    static SshdConfig parse(String text) {
        List<Line> lines = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.split("[\\s=]+");
            if (words.length < 2) {
                continue;
            }
            List<String> values = new ArrayList<>();
            for (int i = 1; i < words.length; i++) {
                String w = words[i].replace("\"", "");
                if (w.startsWith("#")) {
                    break;
                }
                values.add(w);
            }
            lines.add(new Line(words[0].toLowerCase(Locale.ROOT), List.copyOf(values)));
        }
        return new SshdConfig(Optional.empty(), List.of(), List.copyOf(lines));
    }

    /**
     * Merges lines in sshd's order (with includes already expanded in
     * place): the first {@code PasswordAuthentication} and the first
     * {@code AuthorizedKeysFile} win; those inside {@code Match} blocks count
     * as possible key files, not as the default.
     */
    static SshdConfig effective(List<Line> ordered) {
        Optional<Boolean> passwords = Optional.empty();
        List<String> keyFiles = null;
        List<String> conditional = new ArrayList<>();
        boolean inMatch = false;
        for (Line line : ordered) {
            if (line.keyword().equals("match")) {
                inMatch = true;
            } else if (line.keyword().equals("passwordauthentication") && !inMatch && passwords.isEmpty()
                    && !line.values().isEmpty()) {
                passwords = Optional.of(line.values().get(0).equalsIgnoreCase("yes"));
            } else if (line.keyword().equals("authorizedkeysfile")) {
                if (inMatch) {
                    conditional.addAll(line.values());
                } else if (keyFiles == null) {
                    keyFiles = line.values();
                }
            }
        }
        List<String> files = new ArrayList<>(keyFiles == null
                ? List.of(".ssh/authorized_keys", ".ssh/authorized_keys2") : keyFiles);
        files.addAll(conditional);
        files.removeIf(f -> f.equalsIgnoreCase("none"));
        return new SshdConfig(passwords, List.copyOf(files), ordered);
    }

    /** OpenSSH lets passwords in unless told otherwise. */
    boolean acceptsPasswords() {
        return passwordAuthentication.orElse(true);
    }

    /**
     * The path a key-file pattern gives for one account: {@code %h} home,
     * {@code %u} user, {@code %U} uid, {@code %%}; relative to the home.
     */
    static String expand(String pattern, String user, String home, String uid) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '%' && i + 1 < pattern.length()) {
                char t = pattern.charAt(++i);
                b.append(t == 'h' ? home : t == 'u' ? user : t == 'U' ? uid : t == '%' ? "%" : "%" + t);
            } else {
                b.append(c);
            }
        }
        String path = b.toString();
        return path.startsWith("/") ? path : (home.endsWith("/") ? home : home + "/") + path;
    }
}
