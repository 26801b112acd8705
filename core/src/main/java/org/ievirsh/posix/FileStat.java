package org.ievirsh.posix;

/**
 * FileStat is what {@code statx} says of one file, never following a symbolic link.
 *
 * @param birthNanos creation time where the file system records it, else 0
 */
public record FileStat(Type type, int mode, int uid, int gid, long size, long device, long inode,
                       long mtimeNanos, long ctimeNanos, long birthNanos) {

    /** Type is the kind of file. */
    public enum Type { REGULAR, DIRECTORY, SYMLINK, OTHER }

    public boolean isRegular() {
        return type == Type.REGULAR;
    }

    public boolean isDirectory() {
        return type == Type.DIRECTORY;
    }

    /**
     * The file's content as an image inspection sees it: same inode, size and
     * modification time (a change of owner or mode alone does not count).
     */
    public String contentVersion() {
        return device + ":" + inode + ":" + size + ":" + mtimeNanos;
    }

    /** Identity of the file's content as far as metadata tells: same inode, size and times. */
    public String version() {
        return device + ":" + inode + ":" + size + ":" + mtimeNanos + ":" + ctimeNanos;
    }

    /**
     * True when the file last changed (its ctime, which no user can set) at
     * least {@code settleNanos} before {@code nowEpochNanos}. Timestamps are
     * coarse (a clock tick): a second change within the same tick may leave
     * every field of an earlier stat as it was, so only a settled stat may
     * stand for "unchanged since".
     */
    public boolean settled(long nowEpochNanos, long settleNanos) {
        return nowEpochNanos - ctimeNanos >= settleNanos;
    }

    // Written out: the generated record methods go through method handles, and a resync compares stats of every
    // student's files.
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof FileStat s && inode == s.inode && ctimeNanos == s.ctimeNanos
                && mtimeNanos == s.mtimeNanos && size == s.size && device == s.device && type == s.type
                && mode == s.mode && uid == s.uid && gid == s.gid && birthNanos == s.birthNanos;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(inode) * 31 + Long.hashCode(ctimeNanos);
    }

    /** The stat of {@code cPath} (a C string) relative to {@code dirfd}, as {@code flags} say; never a link's target. */
    static FileStat of(int dirfd, byte[] cPath, int flags) throws com.sun.jna.LastErrorException {
        byte[] buffer = new byte[256];
        LibC.statx(dirfd, cPath, flags, LibC.STATX_BASIC_STATS | LibC.STATX_BTIME, buffer);
        return decode(buffer);
    }

    static FileStat decode(byte[] b) {
        int mode = u16(b, 28);
        Type type;
        switch (mode & 0170000) {
            case 0100000: type = Type.REGULAR; break;
            case 0040000: type = Type.DIRECTORY; break;
            case 0120000: type = Type.SYMLINK; break;
            default: type = Type.OTHER; break;
        }
        int mask = i32(b, 0);
        long birth = (mask & LibC.STATX_BTIME) != 0 ? time(b, 80) : 0;
        long device = ((long) i32(b, 136) << 32) | (i32(b, 140) & 0xffffffffL);
        return new FileStat(type, mode & 07777, i32(b, 20), i32(b, 24), i64(b, 40), device, i64(b, 32),
                time(b, 112), time(b, 96), birth);
    }

    private static long time(byte[] b, int offset) {
        return i64(b, offset) * 1_000_000_000L + (i32(b, offset + 8) & 0xffffffffL);
    }

    private static int u16(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8;
    }

    private static int i32(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }

    private static long i64(byte[] b, int o) {
        return (i32(b, o) & 0xffffffffL) | ((long) i32(b, o + 4) << 32);
    }
}
