package org.ievirsh.image.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * VagrantKeys knows Vagrant's published insecure public keys and finds them
 * in an {@code authorized_keys} file, by the key data alone: options before
 * the key and the comment after it do not hide it.
 */
final class VagrantKeys {
    /** The key data (base64) of each insecure key, with what to call it in a message. */
    static final Map<String, String> INSECURE = Map.of(
            "AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oXevct1"
                    + "YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2hMN"
                    + "G0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqH"
                    + "DLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ==",
            "Vagrant's insecure RSA key",
            "AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y",
            "Vagrant's insecure ED25519 key");

    private VagrantKeys() {
    }

    /** The insecure keys that {@code text}, an authorized_keys file or lines of one, lets in. */
    static List<String> foundIn(String text) {
        List<String> found = new ArrayList<>();
        for (String line : text.split("\n")) {
            keyData(line).map(INSECURE::get).filter(name -> !found.contains(name)).ifPresent(found::add);
        }
        return found;
    }

    /**
     * The base64 key data of one authorized_keys line: the word after the key
     * type, wherever the options end. Options may hold quoted spaces
     * ({@code command="a b"}).
     */
    static Optional<String> keyData(String line) {
        List<String> words = words(line.strip());
        if (words.isEmpty() || words.get(0).startsWith("#")) {
            return Optional.empty();
        }
        for (int i = 0; i + 1 < words.size(); i++) {
            if (isKeyType(words.get(i))) {
                return Optional.of(words.get(i + 1));
            }
        }
        return Optional.empty();
    }

    private static boolean isKeyType(String word) {
        return word.startsWith("ssh-") || word.startsWith("ecdsa-sha2-") || word.startsWith("sk-");
    }

    /** Splits at blanks outside double quotes (a backslash escapes a quote), as sshd reads the line. */
    private static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && quoted && i + 1 < line.length()) {
                word.append(c).append(line.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                word.append(c);
            } else if ((c == ' ' || c == '\t') && !quoted) {
                if (word.length() > 0) {
                    words.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.append(c);
            }
        }
        if (word.length() > 0) {
            words.add(word.toString());
        }
        return words;
    }
}
