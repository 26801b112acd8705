package org.ievirsh.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Commands runs programs for tests (qemu-img, virsh, useradd) and fails loudly when they fail. */
public final class Commands {
    /**
     * What qemu-img says when its LUKS key-derivation benchmark measured no CPU time at all
     * (a coarse thread clock in this VM): the same command works when run again.
     */
    private static final String COARSE_CLOCK = "Unable to get accurate CPU usage";

    private Commands() {
    }

    /** Result is a finished program: its exit code and output (stdout and stderr together). */
    public record Result(int code, String output) {
    }

    /** Runs {@code command}; returns whatever it exits with. */
    public static Result run(List<String> command) {
        return run(command, Map.of());
    }

    /** Runs {@code command} with {@code environment} added to this process's; returns whatever it exits with. */
    public static Result run(List<String> command, Map<String, String> environment) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().putAll(environment);
            Process process = builder.start();
            process.getOutputStream().close();
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + command, e);
        }
    }

    /** Runs {@code command} and fails the test unless it exits 0; returns its output. */
    public static String ok(String... command) {
        Result result = run(List.of(command));
        for (int again = 0; again < 3 && result.code() != 0 && result.output().contains(COARSE_CLOCK); again++) {
            result = run(List.of(command));
        }
        if (result.code() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + result.code() + ": " + result.output());
        }
        return result.output();
    }
}
