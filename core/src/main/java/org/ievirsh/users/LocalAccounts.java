package org.ievirsh.users;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * LocalAccounts reads an account from {@code /etc/passwd} and its groups
 * from {@code /etc/group} itself, as NSS's "files" source does: the answer
 * for a local account while NSS as a whole is held up by a directory server
 * (getgrouplist asks every source, LDAP's too). Only a stand-in until NSS
 * answers. The files are read again only when they change.
 */
final class LocalAccounts {
    private static final long LIMIT = 64L << 20;
    private final Path passwd;
    private final Path group;
    private String seen = "";
    private Map<Integer, Owner> byUid = Map.of();

    LocalAccounts(Path passwd, Path group) {
        this.passwd = passwd;
        this.group = group;
    }

    static LocalAccounts system() {
        return new LocalAccounts(Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    Optional<Owner> byUid(int uid) {
        return Optional.ofNullable(all().get(uid));
    }

    private synchronized Map<Integer, Owner> all() {
        try {
            String version = Files.getLastModifiedTime(passwd) + ":" + Files.size(passwd) + ":"
                    + Files.getLastModifiedTime(group) + ":" + Files.size(group);
            if (!version.equals(seen)) {
                byUid = read();
                seen = version;
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return byUid;
    }

    private Map<Integer, Owner> read() throws IOException {
        Map<Integer, List<String>> groupsByGid = new HashMap<>();
        Map<String, List<String>> groupsByMember = new HashMap<>();
        for (String line : lines(group)) {
            String[] f = line.split(":", -1);
            if (f.length < 4) {
                continue;
            }
            try {
                groupsByGid.computeIfAbsent(Integer.parseInt(f[2]), g -> new ArrayList<>()).add(f[0]);
            } catch (NumberFormatException e) {
                continue;
            }
            for (String member : f[3].split(",")) {
                if (!member.isEmpty()) {
                    groupsByMember.computeIfAbsent(member, m -> new ArrayList<>()).add(f[0]);
                }
            }
        }
        Map<Integer, Owner> owners = new HashMap<>();
        for (String line : lines(passwd)) {
            String[] f = line.split(":", -1);
            if (f.length < 4 || !Owner.isValidName(f[0])) {
                continue;
            }
            try {
                int uid = Integer.parseInt(f[2]);
                int gid = Integer.parseInt(f[3]);
                List<String> names = new ArrayList<>(groupsByGid.getOrDefault(gid, List.of()));
                for (String g : groupsByMember.getOrDefault(f[0], List.of())) {
                    if (!names.contains(g)) {
                        names.add(g);
                    }
                }
                owners.putIfAbsent(uid, new Owner(f[0], uid, gid, List.copyOf(names), uid, gid, f.length > 5 ? f[5] : ""));
            } catch (NumberFormatException e) {
                // a line NSS would skip too
            }
        }
        return Map.copyOf(owners);
    }

    private static List<String> lines(Path file) throws IOException {
        if (Files.size(file) > LIMIT) {
            return List.of();
        }
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }
}
