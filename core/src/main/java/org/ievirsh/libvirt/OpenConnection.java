package org.ievirsh.libvirt;

import com.sun.jna.Pointer;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;

/** OpenConnection is a {@link Connect} that lets us reach its native pointer for the calls the binding lacks. */
final class OpenConnection extends Connect {
    OpenConnection(String uri) throws LibvirtException {
        super(uri);
    }

    Pointer pointer() {
        return vcp.getPointer();
    }
}
