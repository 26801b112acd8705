package org.ievirsh.template;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * DomainIdentity is what makes one VM's domain itself: its libvirt name, UUID
 * and MAC addresses. A new VM gets them derived from its owner and name, so
 * they are stable; MACs skip any that is already in use. An existing domain
 * keeps the ones it was defined with.
 */
public record DomainIdentity(String domainName, String uuid, List<String> macs) {

    /**
     * The libvirt name a new domain of VM {@code vm} of {@code user} gets:
     * {@code <user>-<vm>} (the README's configuration), which is unambiguous while the
     * user's name has no '-' (the first '-' then ends it); for a user whose
     * name has one, {@code <user>+<vm>} ('+' is in no user or VM name), so
     * that user {@code rtcol-x} with VM {@code web} and user {@code rtcol}
     * with VM {@code x-web} never want the same name.
     */
    public static String domainName(String user, String vm) {
        return user.indexOf('-') < 0 ? user + "-" + vm : fallbackName(user, vm);
    }

    /**
     * The name a new domain gets when {@link #domainName} is held by another
     * student's domain (defined before names were unambiguous):
     * {@code <user>+<vm>}, which no other VM can want.
     */
    public static String fallbackName(String user, String vm) {
        return user + "+" + vm;
    }

    /** The UUID a new domain of this VM gets. */
    public static String uuidFor(String user, int uid, String vm) {
        byte[] h = digest("uuid\0" + user + "\0" + uid + "\0" + vm);
        long most = 0;
        long least = 0;
        for (int i = 0; i < 8; i++) {
            most = (most << 8) | (h[i] & 0xff);
            least = (least << 8) | (h[8 + i] & 0xff);
        }
        most = (most & ~0xf000L) | 0x8000L;                 // version 8: custom (RFC 9562)
        least = (least & 0x3fffffffffffffffL) | 0x8000000000000000L; // IETF variant
        return new UUID(most, least).toString();
    }

    /**
     * {@code count} MACs for a new domain: derived from the VM, skipping any
     * that {@code inUse} reports, in QEMU's locally administered range 52:54:00.
     */
    public static List<String> macsFor(String user, int uid, String vm, int count, Predicate<String> inUse) {
        List<String> macs = new ArrayList<>();
        for (int nic = 0; nic < count; nic++) {
            for (int attempt = 0; ; attempt++) {
                byte[] h = digest("mac\0" + user + "\0" + uid + "\0" + vm + "\0" + nic + "\0" + attempt);
                String mac = String.format("52:54:00:%02x:%02x:%02x", h[0] & 0xff, h[1] & 0xff, h[2] & 0xff);
                if (!inUse.test(mac) && !macs.contains(mac)) {
                    macs.add(mac);
                    break;
                }
            }
        }
        return List.copyOf(macs);
    }

    private static byte[] digest(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
