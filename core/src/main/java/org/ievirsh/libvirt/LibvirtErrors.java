package org.ievirsh.libvirt;

import java.util.function.BooleanSupplier;
import org.libvirt.Error.ErrorNumber;

/**
 * LibvirtErrors says what a libvirt error means for the controller: its
 * {@link HypervisorException.Kind}, from libvirt's error code and, where the
 * code does not tell (a lock manager's refusal), its message.
 */
final class LibvirtErrors {

    private LibvirtErrors() {
    }

    /** {@code alive}: asked last, whether the blade's connection still answers (else the call was cut off). */
    static HypervisorException.Kind kindOf(ErrorNumber code, String message, BooleanSupplier alive) {
        if (code == ErrorNumber.VIR_ERR_NO_DOMAIN) {
            return HypervisorException.Kind.NOT_FOUND;
        }
        if (code == ErrorNumber.VIR_ERR_NO_DOMAIN_METADATA) {
            return HypervisorException.Kind.NO_METADATA;
        }
        if (code == ErrorNumber.VIR_ERR_OPERATION_INVALID) {
            return HypervisorException.Kind.INVALID_OPERATION;
        }
        if (code == ErrorNumber.VIR_ERR_RESOURCE_BUSY || message != null && (message.contains("Failed to get \"write\" lock")
                || message.contains("is locked") || message.contains("Failed to acquire lock"))) {
            // The lock manager (lockd, sanlock) or QEMU's own image lock: another QEMU has the disk.
            return HypervisorException.Kind.IN_USE;
        }
        if (code == ErrorNumber.VIR_ERR_XML_ERROR || code == ErrorNumber.VIR_ERR_XML_DETAIL
                || code == ErrorNumber.VIR_ERR_XML_INVALID_SCHEMA || code == ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED) {
            return HypervisorException.Kind.REFUSED;
        }
        if (code == ErrorNumber.VIR_ERR_NO_CONNECT || code == ErrorNumber.VIR_ERR_INVALID_CONN
                || code == ErrorNumber.VIR_ERR_RPC || code == ErrorNumber.VIR_ERR_SYSTEM_ERROR || !alive.getAsBoolean()) {
            return HypervisorException.Kind.CONNECTION_LOST;
        }
        return HypervisorException.Kind.OTHER;
    }

    /** True when a driver refused a flag it does not know (the test driver has no NVRAM): ask without it. */
    /** The same for libvirt's error number as the C API gives it (libvirt-java's enum is in the C order). */
    static boolean unsupportedFlag(int code) {
        ErrorNumber[] all = ErrorNumber.values();
        return code >= 0 && code < all.length && unsupportedFlag(all[code]);
    }

    static boolean unsupportedFlag(ErrorNumber code) {
        return code == ErrorNumber.VIR_ERR_INVALID_ARG || code == ErrorNumber.VIR_ERR_NO_SUPPORT
                || code == ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED;
    }
}
