package org.ievirsh.console;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.ievirsh.posix.LockFile;

/**
 * ConsoleSocket is the console service's UNIX socket, open to every user,
 * and the lock beside it ({@code <socket>.lock}). A socket file tells nothing
 * of whether a controller serves it: the lock does, held for as long as this
 * one serves; a second controller on this host refuses to take the socket.
 */
final class ConsoleSocket implements AutoCloseable {
    private final Path path;
    private LockFile lock;
    private ServerSocketChannel server;
    private boolean bound;

    private ConsoleSocket(Path path) {
        this.path = path;
    }

    /**
     * Takes the lock (another controller that holds it serves the socket,
     * and this one refuses to start) and binds the socket: a stale one left
     * by an earlier run is replaced; any other file there is refused.
     */
    static ConsoleSocket bind(Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        Path lockPath = path.resolveSibling(path.getFileName() + ".lock");
        LockFile held = LockFile.open(lockPath);
        if (!held.tryLock()) {
            String holder = held.read().strip().replace('\n', ' ');
            held.close();
            throw new IOException("another controller serves " + path + " (" + (holder.isEmpty() ? "see " + lockPath
                    : holder) + "); give this one a console.socket of its own, or stop that one");
        }
        ConsoleSocket socket = new ConsoleSocket(path);
        socket.lock = held;
        try {
            held.write("pid " + ProcessHandle.current().pid() + "\n");
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                if (!isSocket(path)) {
                    throw new IOException(path + " exists and is not a socket; the console needs that path");
                }
                Files.delete(path);
            }
            socket.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            socket.server.bind(UnixDomainSocketAddress.of(path));
            socket.bound = true;
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private static boolean isSocket(Path path) throws IOException {
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return ((Integer) mode & 0170000) == 0140000;
    }

    ServerSocketChannel server() {
        return server;
    }

    /** Stops listening, removes the socket file (ours: the lock says so) and gives up the lock. */
    @Override
    public synchronized void close() {
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException ignored) {
            // Closing only releases it.
        }
        if (lock == null) {
            return;
        }
        try {
            if (bound) {
                Files.deleteIfExists(path);  // ours: never a file that was there before, nor another's socket
            }
        } catch (IOException ignored) {
            // A stale socket is replaced at the next start.
        }
        lock.close();
        lock = null;
    }
}
