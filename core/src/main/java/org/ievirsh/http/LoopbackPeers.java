package org.ievirsh.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalInt;
import org.ievirsh.posix.SocketOwners;

/**
 * LoopbackPeers tells which local user holds the other end of a TCP
 * connection over the loopback interface: every local user connects from
 * 127.0.0.1, so the address alone cannot tell a student from the Prometheus
 * on the same host. The peer's socket is the one whose local end is the
 * connection's remote end and whose remote end is ours: the kernel tells its
 * owner over netlink ({@link SocketOwners}), one lookup whatever the number
 * of sockets; where it cannot, {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6} list every socket with its owner (a line each:
 * thousands while a client reconnects in a loop, too slow for every
 * connection, so only the fallback).
 */
final class LoopbackPeers {
    private LoopbackPeers() {
    }

    /** The uid owning the socket at {@code peerHost:peerPort} connected to {@code ourHost:ourPort}, if listed. */
    static OptionalInt uidOf(String peerHost, int peerPort, String ourHost, int ourPort) {
        try {
            InetAddress peer = InetAddress.getByName(peerHost);
            InetAddress ours = InetAddress.getByName(ourHost);
            if (SocketOwners.available()) {
                OptionalInt owner = SocketOwners.tcpOwner(peer, peerPort, ours, ourPort);
                if (owner.isPresent() || SocketOwners.available()) {
                    return owner;
                }
            }
            if (peer.getAddress().length == 4 && ours.getAddress().length == 4) {
                OptionalInt v4 = find(Files.readString(Path.of("/proc/net/tcp")), hex(peer.getAddress(), peerPort),
                        hex(ours.getAddress(), ourPort));
                if (v4.isPresent()) {
                    return v4;
                }
            }
            // An IPv6 socket (a server listening on ::) lists IPv4 peers as ::ffff:a.b.c.d.
            return find(Files.readString(Path.of("/proc/net/tcp6")), hex(mapped(peer.getAddress()), peerPort),
                    hex(mapped(ours.getAddress()), ourPort));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    /** The uid of the line whose local address is {@code local} and remote one {@code remote}, in a table's text. */
    static OptionalInt find(String table, String local, String remote) {
        for (String line : table.split("\n")) {
            String[] f = line.trim().split("\\s+");
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
            if (f.length > 7 && f[1].equalsIgnoreCase(local) && f[2].equalsIgnoreCase(remote)) {
                try {
                    return OptionalInt.of(Integer.parseInt(f[7]));
                } catch (NumberFormatException e) {
                    return OptionalInt.empty();
                }
            }
        }
        return OptionalInt.empty();
    }

    /**
     * An address and port as the kernel writes them there: each 32-bit word
     * of the address in host (little-endian) order, then the port, in hex.
     */
    static String hex(byte[] a, int port) {
        StringBuilder s = new StringBuilder();
        for (int word = 0; word < a.length; word += 4) {
            for (int i = 3; i >= 0; i--) {
                s.append(String.format("%02X", a[word + i] & 0xff));
            }
        }
        return s.append(':').append(String.format("%04X", port)).toString().toUpperCase(Locale.ROOT);
    }

    /** An address as 16 bytes: IPv4 as IPv4-mapped IPv6. */
    private static byte[] mapped(byte[] a) {
        if (a.length == 16) {
            return a;
        }
        byte[] six = new byte[16];
        six[10] = (byte) 0xff;
        six[11] = (byte) 0xff;
        System.arraycopy(a, 0, six, 12, 4);
        return six;
    }

    /** True for 127.0.0.0/8, ::1 and IPv4 loopback mapped into IPv6. */
    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress() || host.startsWith("::ffff:127.");
        } catch (UnknownHostException | RuntimeException e) {
            return false;
        }
    }
}
