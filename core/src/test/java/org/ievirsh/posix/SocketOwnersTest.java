package org.ievirsh.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.OptionalInt;
import org.ievirsh.support.Root;
import org.junit.jupiter.api.Test;

/** SocketOwnersTest: the kernel names the uid that holds the other end of a loopback connection. */
class SocketOwnersTest {
    @Test
    void theOwnerOfAConnectionsOtherEndIsTheUserWhoOpenedIt() throws Exception {
        Root.require();
        int nobody = Nss.byName("nobody").orElseThrow().uid();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Process client = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                    "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + server.getLocalPort() + " && sleep 30").start();
            try (Socket accepted = server.accept()) {
                assertEquals(OptionalInt.of(nobody), SocketOwners.tcpOwner(accepted.getInetAddress(), accepted.getPort(),
                        accepted.getLocalAddress(), accepted.getLocalPort()), "the client's socket is nobody's");
                assertEquals(OptionalInt.of(0), SocketOwners.tcpOwner(accepted.getLocalAddress(),
                        accepted.getLocalPort(), accepted.getInetAddress(), accepted.getPort()), "ours is root's");
            } finally {
                client.destroyForcibly();
            }
            assertTrue(SocketOwners.tcpOwner(InetAddress.getLoopbackAddress(), 1, InetAddress.getLoopbackAddress(), 2)
                    .isEmpty(), "no such socket");
        }
    }
}
