package org.ievirsh.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.libvirt.Error.ErrorNumber;
import org.junit.jupiter.api.Test;

/** LibvirtErrorsTest: what each libvirt error means for what comes next. */
class LibvirtErrorsTest {
    private static HypervisorException.Kind kind(ErrorNumber code, String message) {
        return LibvirtErrors.kindOf(code, message, () -> true);
    }

    @Test
    void eachCodeHasItsMeaning() {
        assertEquals(HypervisorException.Kind.NOT_FOUND, kind(ErrorNumber.VIR_ERR_NO_DOMAIN, "no domain"));
        assertEquals(HypervisorException.Kind.NO_METADATA, kind(ErrorNumber.VIR_ERR_NO_DOMAIN_METADATA, ""));
        assertEquals(HypervisorException.Kind.INVALID_OPERATION, kind(ErrorNumber.VIR_ERR_OPERATION_INVALID, ""));
        assertEquals(HypervisorException.Kind.REFUSED, kind(ErrorNumber.VIR_ERR_XML_ERROR, "bad XML"));
        assertEquals(HypervisorException.Kind.REFUSED, kind(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ""));
        assertEquals(HypervisorException.Kind.CONNECTION_LOST, kind(ErrorNumber.VIR_ERR_RPC, "broken pipe"));
        assertEquals(HypervisorException.Kind.OTHER, kind(ErrorNumber.VIR_ERR_INTERNAL_ERROR, "oops"));
    }

    @Test
    void aLockManagersRefusalIsInUseWhateverItsCode() {
        assertEquals(HypervisorException.Kind.IN_USE, kind(ErrorNumber.VIR_ERR_RESOURCE_BUSY, ""));
        assertEquals(HypervisorException.Kind.IN_USE, kind(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                "resource busy: Lockspace resource '/srv/images/alice/web.qcow2' is locked"));
        assertEquals(HypervisorException.Kind.IN_USE, kind(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                "qemu: Failed to get \"write\" lock"));
    }

    @Test
    void anUnknownFailureOnAConnectionThatNoLongerAnswersIsALostConnection() {
        assertEquals(HypervisorException.Kind.CONNECTION_LOST,
                LibvirtErrors.kindOf(ErrorNumber.VIR_ERR_INTERNAL_ERROR, "oops", () -> false));
    }

    @Test
    void aFlagTheDriverDoesNotKnowIsAskedAgainWithout() {
        assertTrue(LibvirtErrors.unsupportedFlag(ErrorNumber.VIR_ERR_NO_SUPPORT));
        assertFalse(LibvirtErrors.unsupportedFlag(ErrorNumber.VIR_ERR_NO_DOMAIN));
    }
}
