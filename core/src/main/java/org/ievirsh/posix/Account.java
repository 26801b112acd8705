package org.ievirsh.posix;

/** Account is a POSIX user as NSS (files, LDAP) knows it. */
public record Account(String name, int uid, int gid, String home) {
}
