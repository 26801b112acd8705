package org.ievirsh.libvirt;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * FakeConsole is a guest's serial console in memory: what the session
 * writes is kept in {@link #typed}; what the test puts in {@link #fromGuest}
 * is read by the session; the guest echoes each line it gets back, as a
 * shell would, prefixed "echo: ".
 */
public final class FakeConsole implements ConsoleStream {
    private static final byte[] END = new byte[0];
    public final BlockingQueue<byte[]> fromGuest = new LinkedBlockingQueue<>();
    private final ByteArrayOutputStream typed = new ByteArrayOutputStream();
    private volatile boolean closed;

    @Override
    public int read(byte[] buffer) throws IOException {
        try {
            byte[] next = closed ? END : fromGuest.take();
            if (next == END || closed) {
                return -1;
            }
            System.arraycopy(next, 0, buffer, 0, Math.min(next.length, buffer.length));
            return Math.min(next.length, buffer.length);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public synchronized void write(byte[] data, int length) throws IOException {
        if (closed) {
            throw new IOException("console closed");
        }
        typed.write(data, 0, length);
        String text = typed.toString(java.nio.charset.StandardCharsets.UTF_8);
        int newline = text.indexOf('\n');
        if (newline >= 0) {
            fromGuest.add(("echo: " + text.substring(0, newline) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            typed.reset();
            typed.write(text.substring(newline + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8), 0,
                    text.length() - newline - 1);
        }
    }

    public boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        fromGuest.add(END);
    }
}
