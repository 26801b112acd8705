package org.ievirsh.e2e;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * OpenFiles watches every process of the machine, through
 * {@code /proc/PID/fd}, for a descriptor open on one of the files it is
 * given, and remembers each process it caught (pid and command line). It
 * looks again and again on a thread of its own until it is closed: a test
 * asserts afterwards that nothing was ever caught.
 */
final class OpenFiles implements AutoCloseable {
    private final Set<Path> watched;
    private final Set<String> caught = Collections.synchronizedSet(new java.util.LinkedHashSet<>());
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long sweeps;

    OpenFiles(Set<Path> files) {
        this.watched = files;
        this.thread = new Thread(this::run, "open-files");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        while (running) {
            sweep();
            sweeps++;
        }
    }

    private void sweep() {
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
                    for (Path fd : fds) {
                        // How it was opened is read first: a descriptor that closes right after it was seen would
                        // otherwise leave its access unknown. Its inode ties that reading to the file seen.
                        List<String> info = fdinfo(proc, fd.getFileName().toString());
                        Path target;
                        try {
                            target = Files.readSymbolicLink(fd);
                        } catch (IOException e) {
                            continue;  // closed meanwhile
                        }
                        if (watched.contains(target)) {
                            caught.add("pid " + proc.getFileName() + " uid " + owner(proc) + " (" + commandLine(proc)
                                    + ") had " + target + " open " + access(info, target));
                        }
                    }
                } catch (IOException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            // /proc is always there; a failed listing is tried again
        }
    }

    /** The lines of descriptor {@code fd}'s fdinfo, or none once it closed. */
    private static List<String> fdinfo(Path proc, String fd) {
        try {
            return Files.readAllLines(proc.resolve("fdinfo").resolve(fd));
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * How a descriptor whose fdinfo read {@code info} was opened: "read-only"
     * or "for writing" (its flags), when that reading was of {@code target}
     * (its inode); "?" otherwise.
     */
    private static String access(List<String> info, Path target) {
        String flags = null;
        String inode = null;
        for (String line : info) {
            if (line.startsWith("flags:")) {
                flags = line.substring(6).strip();
            } else if (line.startsWith("ino:")) {
                inode = line.substring(4).strip();
            }
        }
        try {
            if (flags == null || inode == null
                    || !inode.equals(String.valueOf(Files.getAttribute(target, "unix:ino")))) {
                return "?";
            }
            return (Integer.parseInt(flags, 8) & 3) == 0 ? "read-only" : "for writing";  // O_ACCMODE: O_RDONLY is 0
        } catch (IOException | NumberFormatException e) {
            return "?";
        }
    }

    /** The process's effective uid (its /proc directory's owner), or -1 once it ended. */
    private static int owner(Path proc) {
        try {
            return (Integer) Files.getAttribute(proc, "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    private static String commandLine(Path proc) {
        try {
            String line = new String(Files.readAllBytes(proc.resolve("cmdline"))).replace('\0', ' ').strip();
            return line.length() > 120 ? line.substring(0, 120) + "..." : line;
        } catch (IOException e) {
            return "?";
        }
    }

    /** Every process caught so far with a watched file open. */
    List<String> caught() {
        synchronized (caught) {
            return new ArrayList<>(caught);
        }
    }

    /** How many times every process was looked at. */
    long sweeps() {
        return sweeps;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join();
    }
}
