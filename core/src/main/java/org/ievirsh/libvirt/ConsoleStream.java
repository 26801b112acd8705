package org.ievirsh.libvirt;

import java.io.IOException;

/**
 * ConsoleStream is an open serial console of a domain: bytes from the guest
 * ({@link #read} blocks; -1 once the domain stopped, the blade went or
 * another session took over) and to it. {@link #close} ends it, also a read
 * under way, and may be called more than once.
 */
public interface ConsoleStream extends AutoCloseable {
    int read(byte[] buffer) throws IOException;

    void write(byte[] data, int length) throws IOException;

    @Override
    void close();
}
