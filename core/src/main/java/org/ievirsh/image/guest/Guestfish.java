package org.ievirsh.image.guest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Guestfish drives one {@code guestfish} process over its standard input:
 * one command at a time, each followed by an {@code echo} of a random marker
 * that ends its output. Every command is sent with guestfish's {@code -}
 * prefix, so a failing one (a file that is not there) does not end the
 * session. The disk is looked at inside libguestfs' appliance, a small VM:
 * nothing of the guest is mounted on this host.
 */
final class Guestfish implements AutoCloseable {
    /** Output of one command beyond this is cut (a hostile file cannot fill the heap). */
    static final int MAX_LINES = 20_000;

    private final Process process;
    private final Writer in;
    private final BufferedReader out;
    private final StringBuilder errors = new StringBuilder();
    private final String marker = "@@ie-virsh-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(8));

    private Guestfish(Process process) {
        this.process = process;
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread drain = new Thread(this::drainErrors, "guestfish-stderr");
        drain.setDaemon(true);
        drain.start();
    }

    /**
     * Starts guestfish in {@code sandbox} as {@code uid}:{@code gid} (the
     * owner of the image it will look at).
     */
    static Guestfish start(Sandbox sandbox, int uid, int gid) throws IOException {
        ProcessBuilder builder = sandbox.guestfish(uid, gid);
        try {
            return new Guestfish(builder.start());
        } catch (IOException e) {
            throw new IOException("guestfish cannot be run on the controller's host (Debian: apt install"
                    + " libguestfs-tools linux-image-amd64): " + e.getMessage(), e);
        }
    }

    /** Runs one command; its output lines (none when it failed). */
    List<String> call(String command, String... args) throws IOException {
        StringBuilder line = new StringBuilder("-").append(command);
        for (String arg : args) {
            line.append(' ').append(quote(arg));
        }
        in.write(line.append('\n').append("echo ").append(marker).append('\n').toString());
        in.flush();
        List<String> lines = new ArrayList<>();
        String read;
        while ((read = out.readLine()) != null) {
            if (read.equals(marker)) {
                return lines;
            }
            if (lines.size() < MAX_LINES) {
                lines.add(read);
            }
        }
        throw new IOException("guestfish ended during " + command + ": " + lastErrors());
    }

    /**
     * What guestfish said went wrong, for a message: its "error:" lines and what QEMU could not open
     * (the first of a failed launch says why; libguestfs follows them with
     * advice on filing a bug), the last three, else its last line.
     */
    String lastErrors() {
        synchronized (errors) {
            String[] lines = errors.toString().strip().split("\n");
            java.util.List<String> found = new java.util.ArrayList<>();
            for (String line : lines) {
                if (line.contains("error:") || line.contains("Could not open")) {
                    found.add(line.strip());
                }
            }
            if (found.isEmpty()) {
                return lines[lines.length - 1].strip();
            }
            return String.join("; ", found.subList(Math.max(0, found.size() - 3), found.size()));
        }
    }

    /**
     * A guestfish argument in double quotes, where a backslash escapes: every
     * character of a guest file name stays itself.
     */
    static String quote(String arg) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private void drainErrors() {
        try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = err.readLine()) != null) {
                synchronized (errors) {
                    if (errors.length() > 4096) {
                        errors.delete(0, errors.length() - 2048);
                    }
                    errors.append(line).append('\n');
                }
            }
        } catch (IOException e) {
            // The process is gone; what was read is enough for a message.
        }
    }

    /** Kills the session: used from another thread when an inspection takes too long. */
    void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    @Override
    public void close() {
        try {
            in.write("exit\n");
            in.flush();
            in.close();
        } catch (IOException e) {
            // Already gone.
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                kill();
            }
        } catch (InterruptedException e) {
            kill();
            Thread.currentThread().interrupt();
        }
    }
}
