package org.ievirsh.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.posix.Terminal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * ConsoleCommand connects the student's terminal to a VM's serial console
 * through the controller's console socket (the README's "Reaching your VM"): raw mode on a
 * terminal, Ctrl-] to leave; with stdin not a terminal, stdin goes to the
 * console and the console to stdout until stdin ends (and the console has
 * been quiet for a moment).
 */
@Command(name = "console", mixinStandardHelpOptions = true,
        header = "Connect to a running VM's serial console (Ctrl-] leaves).",
        description = {"Connect your terminal to the serial console of NAME, through the controller (you never",
                "need libvirt access). Ctrl-] leaves. One session per VM: --force takes over one open elsewhere.",
                "With stdin not a terminal, it is sent to the console and the console's output is printed",
                "until stdin ends. An instructor opens a student's course VM as STUDENT/VM (the student",
                "sees it in the VM's status)."},
        footer = {"", "Examples:", "  ie-virsh console web", "  echo 'ip addr' | ie-virsh console web",
                "  ie-virsh console alice/os2026-lab   (an instructor of the course)",
                "", "Exit codes: 0 the session ended, 1 refused (the message says why)."})
final class ConsoleCommand implements Callable<Integer> {
    private static final int CTRL_RIGHT_BRACKET = 0x1d;
    /** In pipe mode, after stdin ends: the console's output is printed until it is quiet this long. */
    private static final long QUIET_MILLIS = 1000;
    private static final long LINGER_MAX_MILLIS = 10_000;

    @Mixin
    StudentOptions options;

    @Parameters(paramLabel = "NAME", description = "The VM (STUDENT/VM: a student's course VM, for instructors).")
    String name;

    @Option(names = "--force", description = "End a session open elsewhere and take the console.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        Path socket = options.adminConfig().map(c -> c.console().socket())
                .orElse(ControllerConfig.Console.DEFAULT_SOCKET);
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new StudentOptions.StudentError("cannot reach the console service at " + socket + ": "
                    + e.getMessage() + " (is the controller running?)");
        }
        try (channel) {
            channel.write(ByteBuffer.wrap(("CONSOLE " + name + (force ? " FORCE" : "") + "\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            String answer = answerLine(channel);
            if (answer == null) {
                throw new StudentOptions.StudentError("the console service closed without an answer");
            }
            if (answer.startsWith("ERROR ")) {
                throw new StudentOptions.StudentError(answer.substring(6));
            }
            if (!answer.equals("OK")) {
                throw new StudentOptions.StudentError("unexpected answer from the console service: "
                        + Output.printable(answer));
            }
            return Terminal.stdinIsTerminal() ? interactive(channel) : piped(channel);
        }
    }

    /** The answer line, read a byte at a time so that no console output is taken with it. */
    private static String answerLine(SocketChannel channel) throws IOException {
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (line.length() < 1024) {
            one.clear();
            if (channel.read(one) < 0) {
                return null;
            }
            char c = (char) (one.get(0) & 0xff);
            if (c == '\n') {
                return line.toString();
            }
            line.append(c);
        }
        return null;
    }

    private int interactive(SocketChannel channel) throws IOException, InterruptedException {
        String saved = stty("-g").strip();
        stty("raw", "-echo");
        try {
            System.out.print("Connected to " + name + " (Ctrl-] leaves)\r\n");
            System.out.flush();
            Thread output = copyToStdout(channel, new AtomicLong());
            AtomicBoolean left = new AtomicBoolean();
            copyStdin(channel, true, left);
            // Until the student leaves (Ctrl-], or their terminal ends) or the console ends (the VM stopped).
            while (output.isAlive() && !left.get()) {
                output.join(100);
            }
            channel.close();
            output.join(1000);
        } finally {
            stty(saved);
            System.out.print("\r\n");
            System.out.flush();
        }
        return 0;
    }

    private int piped(SocketChannel channel) throws IOException, InterruptedException {
        AtomicLong lastOutput = new AtomicLong(System.nanoTime());
        Thread output = copyToStdout(channel, lastOutput);
        AtomicBoolean ended = new AtomicBoolean();
        copyStdin(channel, false, ended);
        long stop = Long.MAX_VALUE;
        while (output.isAlive()) {
            long now = System.nanoTime();
            if (ended.get()) {
                // stdin ended: the console's answer is printed until it has been quiet for a moment.
                stop = Math.min(stop, now + LINGER_MAX_MILLIS * 1_000_000L);
                if (now > stop || now - lastOutput.get() > QUIET_MILLIS * 1_000_000L) {
                    break;
                }
            }
            output.join(50);
        }
        channel.close();
        output.join(1000);
        return 0;
    }

    /**
     * Copies stdin to the console on a thread of its own (a read of stdin
     * cannot be interrupted: the session may end first); {@code done} is set
     * at stdin's end or, on a terminal, at Ctrl-].
     */
    private static void copyStdin(SocketChannel channel, boolean terminal, AtomicBoolean done) {
        Thread t = new Thread(() -> {
            OutputStream console = Channels.newOutputStream(channel);
            byte[] buffer = new byte[4096];
            try {
                int n;
                while ((n = System.in.read(buffer)) > 0) {
                    int end = n;
                    boolean leave = false;
                    for (int i = 0; terminal && i < n; i++) {
                        if (buffer[i] == CTRL_RIGHT_BRACKET) {
                            end = i;
                            leave = true;
                            break;
                        }
                    }
                    console.write(buffer, 0, end);
                    if (leave) {
                        break;
                    }
                }
            } catch (IOException e) {
                // The session ended under us.
            }
            done.set(true);
        }, "console-input");
        t.setDaemon(true);
        t.start();
    }

    private static Thread copyToStdout(SocketChannel channel, AtomicLong lastOutput) {
        Thread t = new Thread(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            try {
                while (channel.read(buffer.clear()) >= 0) {
                    System.out.write(buffer.array(), 0, buffer.position());
                    System.out.flush();
                    lastOutput.set(System.nanoTime());
                }
            } catch (IOException e) {
                // The session ended (we left, or the VM stopped).
            }
        }, "console-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static String stty(String... args) throws IOException, InterruptedException {
        StringBuilder command = new StringBuilder("stty");
        for (String a : args) {
            command.append(' ').append(a.replaceAll("[^A-Za-z0-9:=-]", ""));
        }
        Process p = new ProcessBuilder("sh", "-c", command + " < /dev/tty").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
