package org.ievirsh.users;

import java.util.List;

/**
 * Owner is the student a directory belongs to.
 *
 * @param uid     the uid recorded in domain metadata and status
 * @param fileUid the uid that owns the student's files (their spec files, images, status);
 *                the same as {@code uid} except in the demo, where every example user is the
 *                account running it
 * @param home    the home directory NSS gives (where their ~/.ssh/authorized_keys is); empty when unknown
 */
public record Owner(String user, int uid, int gid, List<String> groups, int fileUid, int fileGid, String home) {

    /** An owner whose home is not known (empty): their ~/.ssh is not read. */
    public Owner(String user, int uid, int gid, List<String> groups, int fileUid, int fileGid) {
        this(user, uid, gid, groups, fileUid, fileGid, "");
    }

    /** NAME is what a user name must look like to name domains and directories. */
    public static final String NAME = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$";
    private static final java.util.regex.Pattern NAME_PATTERN = java.util.regex.Pattern.compile(NAME);

    public static boolean isValidName(String name) {
        return name != null && NAME_PATTERN.matcher(name).matches();
    }
}
