package org.ievirsh.posix;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Nss looks up accounts and groups through the C library, so that every
 * source the machine is configured for (files, LDAP through sssd) answers,
 * with no registration of students anywhere.
 *
 * <p>An empty answer means "not known now": the caller must not conclude
 * that the account was deleted (LDAP may be down).
 */
public final class Nss {
    private static final long BUFFER = 16 * 1024;
    private static final long MAX_BUFFER = 1024 * 1024;

    private Nss() {
    }

    /** The account with {@code uid}, if NSS can resolve it now. */
    public static Optional<Account> byUid(int uid) {
        return lookup(uid, null);
    }

    /** The account named {@code name}, if NSS can resolve it now. */
    public static Optional<Account> byName(String name) {
        return lookup(-1, name);
    }

    /** Account of the process itself (the CLI's student). */
    public static Optional<Account> self() {
        return byUid(LibC.geteuid());
    }

    public static int effectiveUid() {
        return LibC.geteuid();
    }

    public static int effectiveGid() {
        return LibC.getegid();
    }

    private static Optional<Account> lookup(int uid, String name) {
        for (long size = BUFFER; size <= MAX_BUFFER; size *= 4) {
            Memory pwd = new Memory(48);
            Memory buffer = new Memory(size);
            PointerByReference result = new PointerByReference();
            int rc = name == null
                    ? LibC.getpwuid_r(uid, pwd, buffer, size, result)
                    : LibC.getpwnam_r(name, pwd, buffer, size, result);
            if (rc == LibC.ERANGE) {
                continue;
            }
            if (rc != 0 || result.getValue() == null) {
                return Optional.empty();
            }
            return Optional.of(new Account(pwd.getPointer(0).getString(0, "UTF-8"), pwd.getInt(16),
                    pwd.getInt(20), string(pwd.getPointer(32))));
        }
        return Optional.empty();
    }

    /**
     * Every account NSS can enumerate, in one pass (with the files backend,
     * one read of /etc/passwd instead of one per lookup). Sources that do not
     * enumerate (LDAP often) give fewer; callers look the rest up one by one.
     */
    public static synchronized java.util.Map<Integer, Account> enumerate() {
        java.util.Map<Integer, Account> all = new java.util.HashMap<>();
        Memory pwd = new Memory(48);
        Memory buffer = new Memory(BUFFER);
        PointerByReference result = new PointerByReference();
        LibC.setpwent();
        try {
            while (LibC.getpwent_r(pwd, buffer, BUFFER, result) == 0 && result.getValue() != null) {
                Account account = new Account(pwd.getPointer(0).getString(0, "UTF-8"), pwd.getInt(16), pwd.getInt(20),
                        string(pwd.getPointer(32)));
                all.putIfAbsent(account.uid(), account);
            }
        } finally {
            LibC.endpwent();
        }
        return all;
    }

    /** Names of the groups of {@code account}, its primary group first; those NSS cannot name are left out. */
    public static List<String> groupsOf(Account account) {
        return groupsOf(account, new java.util.HashMap<>());
    }

    /**
     * The same, naming each group through {@code names} (gid to name, filled
     * as it goes): ten thousand students of a few groups ask NSS for a few
     * names, not ten thousand.
     */
    public static List<String> groupsOf(Account account, java.util.Map<Integer, Optional<String>> names) {
        int[] gids = new int[64];
        IntByReference count = new IntByReference(gids.length);
        if (LibC.getgrouplist(account.name(), account.gid(), gids, count) < 0) {
            gids = new int[count.getValue()];
            count.setValue(gids.length);
            if (LibC.getgrouplist(account.name(), account.gid(), gids, count) < 0) {
                return List.of();
            }
        }
        Set<String> found = new LinkedHashSet<>();
        for (int i = 0; i < count.getValue(); i++) {
            names.computeIfAbsent(gids[i], Nss::groupName).ifPresent(found::add);
        }
        return new ArrayList<>(found);
    }

    /** The name of group {@code gid}, if NSS knows it. */
    public static Optional<String> groupName(int gid) {
        for (long size = BUFFER; size <= MAX_BUFFER; size *= 4) {
            Memory grp = new Memory(32);
            Memory buffer = new Memory(size);
            PointerByReference result = new PointerByReference();
            int rc = LibC.getgrgid_r(gid, grp, buffer, size, result);
            if (rc == LibC.ERANGE) {
                continue;
            }
            if (rc != 0 || result.getValue() == null) {
                return Optional.empty();
            }
            return Optional.of(grp.getPointer(0).getString(0, "UTF-8"));
        }
        return Optional.empty();
    }

    /** Group is a POSIX group as NSS gives it: its gid and its listed members (not those of primary gid). */
    public record Group(String name, int gid, List<String> members) {
    }

    /**
     * The group named {@code name}, if NSS knows it now (a course's group of
     * ten thousand members included: the buffer grows to 16 MiB).
     */
    public static Optional<Group> group(String name) {
        for (long size = BUFFER; size <= 16 * MAX_BUFFER; size *= 4) {
            Memory grp = new Memory(32);
            Memory buffer = new Memory(size);
            PointerByReference result = new PointerByReference();
            int rc = LibC.getgrnam_r(name, grp, buffer, size, result);
            if (rc == LibC.ERANGE) {
                continue;
            }
            if (rc != 0 || result.getValue() == null) {
                return Optional.empty();
            }
            // struct group: gr_name, gr_passwd, gr_gid (int, padded), gr_mem (NULL-ended array of names)
            List<String> members = new ArrayList<>();
            Pointer mem = grp.getPointer(24);
            for (int i = 0; mem != null; i++) {
                Pointer member = mem.getPointer((long) i * Native.POINTER_SIZE);
                if (member == null) {
                    break;
                }
                members.add(member.getString(0, "UTF-8"));
            }
            return Optional.of(new Group(grp.getPointer(0).getString(0, "UTF-8"), grp.getInt(16), List.copyOf(members)));
        }
        return Optional.empty();
    }

    private static String string(Pointer pointer) {
        return pointer == null ? "" : pointer.getString(0, "UTF-8");
    }
}
