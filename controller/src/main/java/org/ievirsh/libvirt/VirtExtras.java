package org.ievirsh.libvirt;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * VirtExtras binds the libvirt calls that libvirt-java 0.5.4 lacks:
 * {@code virConnectGetAllDomainStats}, which lists every domain of a blade
 * with its state, stop reason, CPU time and memory in one round trip.
 */
final class VirtExtras {
    static final int STATS_STATE = 1;
    static final int STATS_CPU_TOTAL = 2;
    static final int STATS_BALLOON = 4;
    static final int ONLY_ACTIVE = 1;

    private static final int TYPED_PARAM_SIZE = 96;
    private static final int TYPED_PARAM_TYPE = 80;
    private static final int TYPED_PARAM_VALUE = 88;

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
            for (int i = 0; i < count; i++) {
                Pointer record = records.getPointer((long) i * Native.POINTER_SIZE);
                Pointer domain = record.getPointer(0);
                Pointer params = record.getPointer(Native.POINTER_SIZE);
                int paramCount = record.getInt(2L * Native.POINTER_SIZE);
                byte[] uuid = new byte[37];
                virDomainGetUUIDString(domain, uuid);
                Map<String, Number> values = new HashMap<>();
                for (int j = 0; j < paramCount; j++) {
                    Pointer param = params.share((long) j * TYPED_PARAM_SIZE);
                    Number value = numericValue(param);
                    if (value != null) {
                        values.put(param.getString(0), value);
                    }
                }
                out.add(new Record(new String(uuid, 0, 36, java.nio.charset.StandardCharsets.US_ASCII),
                        virDomainGetName(domain), values));
            }
        } finally {
            if (records != null) {
                virDomainStatsRecordListFree(records);
            }
        }
        return out;
    }

    private static Number numericValue(Pointer param) {
        switch (param.getInt(TYPED_PARAM_TYPE)) {
            case 1: // int
            case 2: // unsigned int
                return param.getInt(TYPED_PARAM_VALUE);
            case 3: // long long
            case 4: // unsigned long long
                return param.getLong(TYPED_PARAM_VALUE);
            case 5:
                return param.getDouble(TYPED_PARAM_VALUE);
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
