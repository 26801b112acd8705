package org.ievirsh.users;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * LocalAccounts reads an account from {@code /etc/passwd} and its groups
 * from {@code /etc/group} itself, as NSS's "files" source does: the answer
 * for a local account while NSS as a whole is held up by a directory server
 * (getgrouplist asks every source, LDAP's too). Only a stand-in until NSS
 * answers.
 */
final class LocalAccounts {
    private static final long LIMIT = 64L << 20;
    private final Path passwd;
    private final Path group;

    LocalAccounts(Path passwd, Path group) {
        this.passwd = passwd;
        this.group = group;
    }

    static LocalAccounts system() {
        return new LocalAccounts(Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    Optional<Owner> byUid(int uid) {
        try {
            for (String line : lines(passwd)) {
                String[] f = line.split(":", -1);
                if (f.length >= 4 && f[2].equals(Integer.toString(uid)) && Owner.isValidName(f[0])) {
                    int gid = Integer.parseInt(f[3]);
                    return Optional.of(new Owner(f[0], uid, gid, groupsOf(f[0], gid), uid, gid));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private List<String> groupsOf(String user, int gid) throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : lines(group)) {
            String[] f = line.split(":", -1);
            if (f.length < 4) {
                continue;
            }
            boolean member = f[2].equals(Integer.toString(gid)) || List.of(f[3].split(",")).contains(user);
            if (member && !names.contains(f[0])) {
                names.add(f[0]);
            }
        }
        return names;
    }

    private static List<String> lines(Path file) throws IOException {
        if (Files.size(file) > LIMIT) {
            return List.of();
        }
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }
}
