package org.ievirsh.controller;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ievirsh.posix.LockFile;
import org.ievirsh.posix.PosixException;

/**
 * Leadership is {@code ha.lockFile}: the controller that holds its
 * exclusive {@code flock} leads, every other waits in {@link #take}. The
 * leader writes its record into the file (epoch, host, pid, since): the
 * epoch counts the takeovers, one more than the record it found.
 */
final class Leadership implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Leadership.class.getName());
    private static final Pattern EPOCH = Pattern.compile("(?m)^epoch (\\d{1,18})$");

    private final LockFile file;

    Leadership(Path lockFile) throws PosixException {
        this.file = LockFile.open(lockFile);
    }

    /** Record is what a leader writes into the lock file. */
    record Record(long epoch, String host, long pid, Instant since) {
        String text() {
            return "epoch " + epoch + "\nhost " + host + "\npid " + pid + "\nsince " + since + "\n";
        }
    }

    /** The epoch in a lock file's text; 0 when it holds none (a new file, or one not written by a leader). */
    static long epochOf(String text) {
        Matcher m = EPOCH.matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** Blocks until this controller holds the lock; then writes and returns its record. */
    Record take(Clock clock) throws PosixException {
        if (!file.tryLock()) {
            LOG.info("standby: " + file.path() + " is held by another controller (" + holder() + "); waiting");
            file.lock();
        }
        Record record = new Record(epochOf(file.read()) + 1, host(), ProcessHandle.current().pid(), clock.instant());
        file.write(record.text());
        return record;
    }

    private String holder() {
        try {
            return file.read().strip().replace('\n', ' ');
        } catch (PosixException e) {
            return e.getMessage();
        }
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "unknown";
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
