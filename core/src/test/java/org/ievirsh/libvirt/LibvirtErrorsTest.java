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

    @Test
    void onlyAFlagTheDriverLacksSendsAShutdownToThePlainCallByItsCNumber() {
        // libvirt's C numbers: 3 no support, 8 invalid argument (the test driver's "unsupported flags"), 74 argument
        // unsupported; 68 is "operation timed out" (a job that could not start), 55 operation invalid.
        assertTrue(LibvirtErrors.unsupportedFlag(3));
        assertTrue(LibvirtErrors.unsupportedFlag(8));
        assertTrue(LibvirtErrors.unsupportedFlag(74));
        assertFalse(LibvirtErrors.unsupportedFlag(68));
        assertFalse(LibvirtErrors.unsupportedFlag(55));
        assertFalse(LibvirtErrors.unsupportedFlag(-1));
        assertFalse(LibvirtErrors.unsupportedFlag(100_000));
        assertEquals(ErrorNumber.VIR_ERR_OPERATION_TIMEOUT, ErrorNumber.values()[68], "libvirt-java's enum is in C order");
    }
}
