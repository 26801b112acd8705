package org.ievirsh.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Attacker is one student's attack on the shared service, run as that
 * student (its own process, under {@code setpriv}: the console socket knows
 * callers by the kernel's word) until it is killed. {@link HostileBench}
 * starts one per attack; each mode is what issue 35's red team did:
 *
 * <pre>
 *   paste SOCKET VM BYTES       paste BYTES into the console of VM, whose guest reads nothing; again when it ends
 *   unread SOCKET VM COMMAND    type COMMAND at the guest's shell (a flood of output), then never read again
 *   force SOCKET VM THREADS     CONSOLE VM FORCE from THREADS threads, over and over
 *   slowloris SOCKET N          N connections to the console socket that never send a request
 *   http PORT N                 N keep-alive connections asking /healthz (no token needed) over and over
 *   probe SOCKET VM             one CONSOLE request: prints the answer line, exit 0 when it is OK
 * </pre>
 */
public final class Attacker {
    private Attacker() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "paste" -> paste(Path.of(args[1]), args[2], Integer.parseInt(args[3]));
            case "unread" -> unread(Path.of(args[1]), args[2], args[3]);
            case "force" -> force(Path.of(args[1]), args[2], Integer.parseInt(args[3]));
            case "slowloris" -> slowloris(Path.of(args[1]), Integer.parseInt(args[2]));
            case "http" -> http(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            case "probe" -> System.exit(probe(Path.of(args[1]), args[2]));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static SocketChannel connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return channel;
    }

    /** Sends a request line and returns the answer line. */
    private static String request(SocketChannel channel, String line) throws IOException {
        channel.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII)));
        StringBuilder answer = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (channel.read(one.clear()) > 0 && one.get(0) != '\n') {
            answer.append((char) one.get(0));
        }
        return answer.toString();
    }

    private static void paste(Path socket, String vm, int bytes) throws InterruptedException {
        byte[] text = "x".repeat(bytes).getBytes(StandardCharsets.US_ASCII);
        while (true) {
            try (SocketChannel channel = connect(socket)) {
                if (request(channel, "CONSOLE " + vm + " FORCE").equals("OK")) {
                    Thread reader = drain(Channels.newInputStream(channel));
                    channel.write(ByteBuffer.wrap(text));
                    reader.join();  // held open until the controller ends it
                }
            } catch (IOException e) {
                // Ended by the controller: paste again.
            }
            Thread.sleep(200);
        }
    }

    private static void unread(Path socket, String vm, String command) throws Exception {
        SocketChannel channel = connect(socket);
        if (!request(channel, "CONSOLE " + vm + " FORCE").equals("OK")) {
            throw new IllegalStateException("no console");
        }
        // Wait for the shell's prompt, then start the flood and read nothing more, ever.
        InputStream in = Channels.newInputStream(channel);
        OutputStream out = Channels.newOutputStream(channel);
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + 120_000_000_000L;
        out.write("\n".getBytes(StandardCharsets.US_ASCII));
        while (!seen.toString().contains("# ") && System.nanoTime() < deadline) {
            int b = in.read();
            if (b < 0) {
                throw new IllegalStateException("the console ended before the prompt");
            }
            seen.append((char) b);
            if (seen.length() % 200 == 0) {
                out.write("\n".getBytes(StandardCharsets.US_ASCII));
            }
        }
        out.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
        System.out.println("flooding");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void force(Path socket, String vm, int threads) throws InterruptedException {
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                while (true) {
                    try (SocketChannel channel = connect(socket)) {
                        request(channel, "CONSOLE " + vm + " FORCE");
                        Thread.sleep(20);
                    } catch (IOException e) {
                        // Refused or ended: again.
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            t.start();
            all.add(t);
        }
        for (Thread t : all) {
            t.join();
        }
    }

    private static void slowloris(Path socket, int connections) throws InterruptedException {
        List<SocketChannel> open = new ArrayList<>();
        while (true) {
            open.removeIf(c -> !c.isOpen() || closedByPeer(c));
            while (open.size() < connections) {
                try {
                    SocketChannel c = connect(socket);
                    c.configureBlocking(false);
                    open.add(c);
                } catch (IOException e) {
                    break;
                }
            }
            Thread.sleep(100);
        }
    }

    private static boolean closedByPeer(SocketChannel channel) {
        try {
            if (channel.read(ByteBuffer.allocate(256)) < 0) {
                channel.close();
                return true;
            }
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static void http(int port, int connections) throws InterruptedException {
        byte[] ask = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Thread t = new Thread(() -> {
                while (true) {
                    try (Socket s = new Socket("127.0.0.1", port)) {
                        Thread reader = drain(s.getInputStream());
                        while (reader.isAlive()) {
                            s.getOutputStream().write(ask);
                            Thread.sleep(200);
                        }
                    } catch (IOException e) {
                        // Refused or closed: again.
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            all.add(t);
        }
        for (Thread t : all) {
            t.join();
        }
    }

    private static int probe(Path socket, String vm) throws IOException {
        try (SocketChannel channel = connect(socket)) {
            String answer = request(channel, "CONSOLE " + vm);
            System.out.println(answer);
            return answer.equals("OK") ? 0 : 1;
        }
    }

    /** Reads and drops what comes, on a thread of its own, until the end. */
    private static Thread drain(InputStream in) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try {
                while (in.read(buffer) >= 0) {
                    // dropped
                }
            } catch (IOException e) {
                // ended
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }
}
