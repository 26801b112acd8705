package org.ievirsh.console;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.ievirsh.libvirt.ConsoleStream;

/**
 * ConsoleSession is one open console: the caller's socket and the VM's
 * stream, copied both ways on three threads, none of which a slow side can
 * hold up the other:
 *
 * <ul>
 *   <li>the caller's bytes go to the guest as they come; a guest that reads
 *       nothing stops the caller's bytes (the stream's own connection pushes
 *       back), and nobody else's;</li>
 *   <li>the guest's bytes are read as fast as the guest writes them, into a
 *       buffer of {@link #BUFFERED} bytes at most, and written to the caller
 *       from there; what a caller that does not read (a suspended terminal)
 *       cannot take is dropped, and the caller is told how much at the next
 *       bytes it gets. So a guest that floods its serial port costs a bounded
 *       amount of memory, whoever is (not) reading.</li>
 * </ul>
 *
 * It ends once, when either side ends, the VM stops or another session
 * takes over; ending closes the stream (and its connection) and the socket.
 */
final class ConsoleSession {
    /** BUFFERED bounds the guest's bytes held for a caller that reads slower than the guest writes. */
    static final int BUFFERED = 64 * 1024;

    final String key;
    final String owner;
    final long openedAt;
    private final SocketChannel client;
    private final ConsoleStream stream;
    private final Consumer<ConsoleSession> ended;
    private final Output output = new Output();
    /** Counted down once the caller's side stopped writing: all the guest said is out, or the caller went. */
    private final java.util.concurrent.CountDownLatch delivered = new java.util.concurrent.CountDownLatch(1);
    private boolean over;

    ConsoleSession(String key, String owner, SocketChannel client, ConsoleStream stream,
                   Consumer<ConsoleSession> ended) {
        this.key = key;
        this.owner = owner;
        this.openedAt = System.nanoTime();
        this.client = client;
        this.stream = stream;
        this.ended = ended;
    }

    /**
     * Answers OK, starts the guest's side on two threads of {@code threads},
     * and copies the caller's bytes to the guest on this one until either
     * side ends.
     */
    void run(Executor threads) {
        try {
            client.write(ByteBuffer.wrap("OK\n".getBytes(StandardCharsets.US_ASCII)));
            threads.execute(this::fromGuest);
            threads.execute(this::toCaller);
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            while (true) {
                buffer.clear();
                int n = client.read(buffer);
                if (n < 0) {
                    break;
                }
                stream.write(buffer.array(), n);
            }
            end();
        } catch (IOException | RuntimeException e) {
            end();
        }
    }

    private void fromGuest() {
        byte[] buffer = new byte[4096];
        try {
            int n;
            while ((n = stream.read(buffer)) >= 0) {
                output.put(buffer, n);
            }
        } catch (IOException | RuntimeException e) {
            // The stream failed: the session is over all the same.
        }
        output.close();
        try {
            // The guest's last words (a VM that stopped) still reach a caller who reads; one who does not is
            // not waited for long.
            delivered.await(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        end();
    }

    private void toCaller() {
        try {
            for (ByteBuffer next; (next = output.take()) != null; ) {
                while (next.hasRemaining()) {
                    client.write(next);
                }
            }
        } catch (IOException | RuntimeException e) {
            // The caller went.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        delivered.countDown();
        end();
    }

    /**
     * Ends the session because another took the console over: the caller is
     * told who, after the guest's last bytes (a caller who does not read is
     * cut off by the broker soon after all the same).
     */
    void takenOver(String by) {
        output.notice("\r\n[ie-virsh: the console was taken over by " + by + "]\r\n");
        output.close();
        stream.close();
    }

    /** Ends the session (once): the stream and its connection, the socket, then the broker's count. */
    void end() {
        synchronized (this) {
            if (over) {
                return;
            }
            over = true;
        }
        output.close();
        stream.close();
        try {
            client.close();
        } catch (IOException ignored) {
            // Closing only releases it.
        }
        ended.accept(this);
    }

    /** Bytes of the guest's that the caller did not read in time and were dropped, so far. */
    long dropped() {
        return output.droppedInAll();
    }

    /**
     * Output is the guest's bytes on their way to the caller: at most
     * {@link #BUFFERED} held; beyond that, new bytes are dropped and counted,
     * and the next bytes the caller takes begin with a line saying so.
     */
    static final class Output {
        private final byte[] ring = new byte[BUFFERED];
        private int head;
        private int size;
        private long dropped;
        private long droppedInAll;
        private boolean closed;
        /** A line of the controller's, given after the guest's bytes. */
        private byte[] pending;

        synchronized void put(byte[] data, int length) {
            int fits = Math.min(length, BUFFERED - size);
            for (int i = 0; i < fits; i++) {
                ring[(head + size + i) % BUFFERED] = data[i];
            }
            size += fits;
            dropped += length - fits;
            droppedInAll += length - fits;
            notifyAll();
        }

        /** The next bytes for the caller; blocks while there are none; null once closed. */
        synchronized ByteBuffer take() throws InterruptedException {
            while (size == 0 && pending == null && !closed) {
                wait();
            }
            if (size == 0) {
                byte[] last = pending;
                pending = null;
                return last == null ? null : ByteBuffer.wrap(last);
            }
            byte[] notice = dropped == 0 ? new byte[0] : ("\r\n[ie-virsh: " + dropped + " bytes of console output"
                    + " were dropped: they came faster than they were read]\r\n").getBytes(StandardCharsets.US_ASCII);
            dropped = 0;
            byte[] chunk = new byte[notice.length + size];
            System.arraycopy(notice, 0, chunk, 0, notice.length);
            for (int i = 0; i < size; i++) {
                chunk[notice.length + i] = ring[(head + i) % BUFFERED];
            }
            head = 0;
            size = 0;
            return ByteBuffer.wrap(chunk);
        }

        synchronized void close() {
            closed = true;
            notifyAll();
        }

        /** Adds a line of the controller's after what the guest said (kept whatever the bound). */
        synchronized void notice(String text) {
            if (!closed) {
                pending = text.getBytes(StandardCharsets.US_ASCII);
                notifyAll();
            }
        }

        synchronized long droppedInAll() {
            return droppedInAll;
        }
    }
}
