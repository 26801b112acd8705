package org.ievirsh.libvirt;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * VirtExtras binds the libvirt calls that libvirt-java 0.5.4 lacks:
 * {@code virConnectGetAllDomainStats}, which lists every domain of a blade
 * with its state, stop reason, CPU time and memory in one round trip, and
 * {@code virDomainAgentSetResponseTimeout}, which bounds how long a call to
 * a domain's guest agent may wait for the guest.
 */
final class VirtExtras {
    static final int STATS_STATE = 1;
    static final int STATS_CPU_TOTAL = 2;
    static final int STATS_BALLOON = 4;
    static final int ONLY_ACTIVE = 1;

    private static final int TYPED_PARAM_SIZE = 96;
    private static final int TYPED_PARAM_TYPE = 80;
    private static final int TYPED_PARAM_VALUE = 88;
    /** virDomainStatsRecord: the domain, its parameters, their count (64-bit). */
    private static final int RECORD_SIZE = 24;

    static {
        Native.register(VirtExtras.class, "virt");
    }

    private VirtExtras() {
    }

    private static native int virConnectGetAllDomainStats(Pointer conn, int stats, PointerByReference ret, int flags);

    private static native void virDomainStatsRecordListFree(Pointer stats);

    private static native String virDomainGetName(Pointer domain);

    private static native int virDomainGetUUIDString(Pointer domain, byte[] buffer);

    private static native String virGetLastErrorMessage();

    private static native Pointer virDomainLookupByUUIDString(Pointer conn, String uuid);

    private static native int virDomainAgentSetResponseTimeout(Pointer domain, int timeout, int flags);

    private static native int virDomainFree(Pointer domain);

    /**
     * Makes calls to the guest agent of domain {@code uuid} give up after
     * {@code seconds} (libvirt's default waits as long as the guest likes:
     * a guest whose agent answers the handshake and never the command held
     * a thread for minutes). False when the driver cannot (the test driver).
     */
    static boolean agentTimeout(Pointer connection, String uuid, int seconds) {
        Pointer domain = virDomainLookupByUUIDString(connection, uuid);
        if (domain == null) {
            return false;
        }
        try {
            return virDomainAgentSetResponseTimeout(domain, seconds, 0) == 0;
        } finally {
            virDomainFree(domain);
        }
    }

    /** Record is one domain's statistics: name, UUID and the numeric fields asked for. */
    record Record(String uuid, String name, Map<String, Number> values) {
    }

    /** All domains' statistics of {@code stats} kinds; throws with libvirt's message on failure. */
    static List<Record> allDomainStats(Pointer connection, int stats, int flags) throws VirtExtrasException {
        PointerByReference result = new PointerByReference();
        int count = virConnectGetAllDomainStats(connection, stats, result, flags);
        if (count < 0) {
            throw new VirtExtrasException(String.valueOf(virGetLastErrorMessage()));
        }
        Pointer records = result.getValue();
        List<Record> out = new ArrayList<>(count);
        try {
            if (count == 0) {
                return out;
            }
            // Each piece is copied out of native memory in one call: a blade of 40,000 domains is read in about
            // 160,000 calls rather than half a million.
            Pointer[] list = records.getPointerArray(0, count);
            ByteBuffer header = ByteBuffer.allocate(RECORD_SIZE).order(ByteOrder.nativeOrder());
            byte[] uuid = new byte[37];
            for (Pointer record : list) {
                header.clear();
                header.put(record.getByteArray(0, RECORD_SIZE)).flip();
                Pointer domain = new Pointer(header.getLong(0));
                Pointer params = new Pointer(header.getLong(8));
                int paramCount = header.getInt(16);
                virDomainGetUUIDString(domain, uuid);
                Map<String, Number> values = new HashMap<>();
                if (paramCount > 0) {
                    ByteBuffer all = ByteBuffer.wrap(params.getByteArray(0, paramCount * TYPED_PARAM_SIZE))
                            .order(ByteOrder.nativeOrder());
                    for (int j = 0; j < paramCount; j++) {
                        int at = j * TYPED_PARAM_SIZE;
                        Number value = numericValue(all, at);
                        if (value != null) {
                            values.put(field(all.array(), at), value);
                        }
                    }
                }
                out.add(new Record(new String(uuid, 0, 36, StandardCharsets.US_ASCII), virDomainGetName(domain),
                        values));
            }
        } finally {
            if (records != null) {
                virDomainStatsRecordListFree(records);
            }
        }
        return out;
    }

    /** The field name of a typed parameter: a NUL-ended char[80] at its start. */
    private static String field(byte[] params, int at) {
        int end = at;
        while (end < at + TYPED_PARAM_TYPE && params[end] != 0) {
            end++;
        }
        return new String(params, at, end - at, StandardCharsets.UTF_8);
    }

    private static Number numericValue(ByteBuffer params, int at) {
        switch (params.getInt(at + TYPED_PARAM_TYPE)) {
            case 1: // int
            case 2: // unsigned int
                return params.getInt(at + TYPED_PARAM_VALUE);
            case 3: // long long
            case 4: // unsigned long long
                return params.getLong(at + TYPED_PARAM_VALUE);
            case 5:
                return params.getDouble(at + TYPED_PARAM_VALUE);
            default:
                return null;
        }
    }

    /** VirtExtrasException is a failed bulk call, with libvirt's message. */
    static final class VirtExtrasException extends Exception {
        private static final long serialVersionUID = 1L;

        VirtExtrasException(String message) {
            super(message);
        }
    }
}
