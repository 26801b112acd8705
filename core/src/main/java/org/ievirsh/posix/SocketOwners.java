package org.ievirsh.posix;

import com.sun.jna.LastErrorException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalInt;

/**
 * SocketOwners tells the uid that owns a TCP socket of this host, found by
 * its two ends, by asking the kernel for that one socket over netlink
 * ({@code NETLINK_SOCK_DIAG}, as {@code ss} does): a lookup in the kernel's
 * socket table, however many sockets there are, where reading
 * {@code /proc/net/tcp} costs a line per socket (thousands while a client
 * opens connection after connection).
 */
public final class SocketOwners {
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int AF_NETLINK = 16;
    private static final int NETLINK_SOCK_DIAG = 4;
    private static final int IPPROTO_TCP = 6;
    private static final short SOCK_DIAG_BY_FAMILY = 20;
    private static final short NLM_F_REQUEST = 1;
    private static final int REQUEST_LENGTH = 16 + 56;
    /** Where inet_diag_msg's uid is in the answer: the netlink header, then 4 bytes, the socket id, three words. */
    private static final int UID_OFFSET = 16 + 4 + 48 + 12;

    /** False once the kernel refused a netlink socket for this (no sock_diag): callers look elsewhere. */
    private static volatile boolean available = true;

    private SocketOwners() {
    }

    /** True unless this kernel has no socket diagnostics over netlink. */
    public static boolean available() {
        return available;
    }

    /**
     * The uid owning the TCP socket whose local end is {@code local} and
     * whose remote end is {@code remote}; empty when there is none (it closed)
     * or the kernel cannot tell.
     */
    public static OptionalInt tcpOwner(InetAddress local, int localPort, InetAddress remote, int remotePort) {
        boolean v4 = local instanceof Inet4Address && remote instanceof Inet4Address;
        ByteBuffer request = ByteBuffer.allocate(REQUEST_LENGTH).order(ByteOrder.nativeOrder());
        request.putInt(REQUEST_LENGTH).putShort(SOCK_DIAG_BY_FAMILY).putShort(NLM_F_REQUEST).putInt(1).putInt(0);
        request.put((byte) (v4 ? AF_INET : AF_INET6)).put((byte) IPPROTO_TCP).put((byte) 0).put((byte) 0);
        request.putInt(-1);  // every state
        request.order(ByteOrder.BIG_ENDIAN).putShort((short) localPort).putShort((short) remotePort);
        request.put(address16(local, v4)).put(address16(remote, v4));
        request.order(ByteOrder.nativeOrder()).putInt(0).putInt(-1).putInt(-1);  // any interface, no cookie
        int fd;
        try {
            fd = LibC.socket(AF_NETLINK, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        } catch (LastErrorException e) {
            available = false;
            return OptionalInt.empty();
        }
        try {
            byte[] kernel = new byte[12];
            kernel[0] = (byte) AF_NETLINK;  // sockaddr_nl: the kernel is pid 0
            LibC.sendto(fd, request.array(), REQUEST_LENGTH, 0, kernel, kernel.length);
            byte[] answer = new byte[1024];
            long n = LibC.read(fd, answer, answer.length);
            ByteBuffer a = ByteBuffer.wrap(answer).order(ByteOrder.nativeOrder());
            if (n < UID_OFFSET + 4 || a.getShort(4) != SOCK_DIAG_BY_FAMILY) {
                return OptionalInt.empty();  // NLMSG_ERROR: no such socket
            }
            return OptionalInt.of(a.getInt(UID_OFFSET));
        } catch (LastErrorException e) {
            return OptionalInt.empty();
        } finally {
            try {
                LibC.close(fd);
            } catch (LastErrorException ignored) {
                // Closing only releases it.
            }
        }
    }

    /** The address as the kernel's socket id holds it: 16 bytes, an IPv4 one in the first four. */
    private static byte[] address16(InetAddress address, boolean v4) {
        byte[] raw = address.getAddress();
        byte[] out = new byte[16];
        if (v4 || raw.length == 16) {
            System.arraycopy(raw, 0, out, 0, raw.length);
        } else {
            out[10] = (byte) 0xff;  // IPv4 on an IPv6 socket: ::ffff:a.b.c.d
            out[11] = (byte) 0xff;
            System.arraycopy(raw, 0, out, 12, 4);
        }
        return out;
    }
}
