package org.ievirsh.console;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** ConsoleWire reads a request line from a caller and writes answers back, within bounds. */
final class ConsoleWire {
    private static final int MAX_REQUEST = 256;

    private ConsoleWire() {
    }

    /**
     * The request line, or null when it does not come whole within
     * {@code within} (the connection is closed then) or is longer than
     * {@value #MAX_REQUEST} bytes.
     */
    static String requestLine(SocketChannel client, ScheduledExecutorService deadlines, Duration within) {
        ScheduledFuture<?> deadline = null;
        ByteBuffer buffer = ByteBuffer.allocate(MAX_REQUEST);
        try {
            deadline = deadlines.schedule(() -> closeQuietly(client), within.toMillis(), TimeUnit.MILLISECONDS);
            while (buffer.hasRemaining()) {
                // One byte at a time: nothing after the newline may be taken from the console's input.
                ByteBuffer one = ByteBuffer.allocate(1);
                if (client.read(one) < 0) {
                    return null;
                }
                byte b = one.get(0);
                if (b == '\n') {
                    String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
                    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
                }
                buffer.put(b);
            }
            return null;
        } catch (IOException e) {
            return null;
        } finally {
            if (deadline != null) {
                deadline.cancel(false);
            }
        }
    }

    /** Writes {@code OK}, at most {@code maxLines} lines (each on one line) and a blank line; false if the caller went. */
    static boolean lines(SocketChannel client, List<String> lines, int maxLines) {
        StringBuilder answer = new StringBuilder("OK\n");
        lines.stream().limit(maxLines).forEach(l -> answer.append(l.replace('\n', ' ')).append('\n'));
        answer.append('\n');
        try {
            ByteBuffer bytes = ByteBuffer.wrap(answer.toString().getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                client.write(bytes);
            }
            client.shutdownOutput();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Writes the answer line; what the caller sent beyond its request is read
     * and dropped, so that closing does not reset the connection before the
     * caller has read the answer.
     */
    static void reply(SocketChannel client, String line) {
        try {
            client.write(ByteBuffer.wrap((line.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8)));
            client.shutdownOutput();
            client.configureBlocking(false);
            ByteBuffer sink = ByteBuffer.allocate(4096);
            for (int i = 0; i < 16 && client.read(sink.clear()) > 0; i++) {
                // dropped
            }
        } catch (IOException ignored) {
            // The caller went; nothing to tell.
        }
    }

    static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing only releases it.
        }
    }
}
