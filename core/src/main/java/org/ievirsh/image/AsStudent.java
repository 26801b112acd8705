package org.ievirsh.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.ievirsh.posix.Nss;

/**
 * AsStudent runs a short shell script with a student's rights and nothing
 * more: {@code setpriv} with their uid and gid, no other groups and no new
 * privileges, a clean environment, umask 077, in a directory of theirs.
 * Whatever the script touches (an overlay, a seed, their authorized_keys),
 * it touches as the student: a link, a name or a file the student put there
 * can only lead it to what the student could reach anyway.
 */
public final class AsStudent {
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private AsStudent() {
    }

    /** Result is how the script ended: its exit code and what it printed (at most {@code outputBytes}). */
    public record Result(int code, byte[] output) {
        public boolean ok() {
            return code == 0;
        }

        public String text() {
            return new String(output, StandardCharsets.UTF_8).strip();
        }
    }

    /**
     * Runs {@code script} ({@code sh -c}, its arguments as {@code $1}...)
     * as {@code uid}:{@code gid} in {@code dir}, with {@code env} added to a
     * clean environment; kills it after {@code timeout}.
     */
    public static Result run(int uid, int gid, Path dir, String script, List<String> args, Map<String, String> env,
                             int outputBytes, Duration timeout) throws IOException {
        List<String> program = new ArrayList<>(List.of("/bin/sh", "-c", "umask 077\n" + script, "sh"));
        program.addAll(args);
        return exec(uid, gid, dir, program, env, outputBytes, timeout);
    }

    /**
     * Runs {@code program} (no shell: one process fewer, where a VM's first
     * start waits for it) as {@code uid}:{@code gid} in {@code dir}, as
     * {@link #run} does.
     */
    public static Result exec(int uid, int gid, Path dir, List<String> program, Map<String, String> env,
                              int outputBytes, Duration timeout) throws IOException {
        List<String> command = new ArrayList<>();
        int self = Nss.effectiveUid();
        if (self != uid) {
            if (self != 0) {
                throw new IOException("the controller runs as uid " + self + " and cannot act as uid " + uid);
            }
            command.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
                    "--no-new-privs", "--"));
        }
        command.addAll(program);
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> environment = builder.environment();
        environment.clear();
        environment.put("PATH", PATH);
        environment.put("LC_ALL", "C");
        environment.putAll(env);
        Process process = builder.start();
        process.getOutputStream().close();
        java.util.concurrent.CompletableFuture<byte[]> read = new java.util.concurrent.CompletableFuture<>();
        // On a thread of its own (not a shared pool, where a few blocked reads would starve everyone else's).
        Thread reader = new Thread(() -> {
            try (var in = process.getInputStream()) {
                byte[] kept = in.readNBytes(outputBytes);
                in.transferTo(java.io.OutputStream.nullOutputStream());  // the rest is not kept, but not blocked on
                read.complete(kept);
            } catch (IOException e) {
                read.complete(new byte[0]);
            }
        }, "as-student-output");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException("it did not end within " + timeout.toSeconds() + " s");
            }
            return new Result(process.exitValue(), read.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            process.destroyForcibly();
            throw new IOException("its output could not be read: " + e);
        }
    }
}
