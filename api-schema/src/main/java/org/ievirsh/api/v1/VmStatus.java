package org.ievirsh.api.v1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * VmStatus is what the controller tells a student about one VM, written to
 * {@code .status/<name>.yaml} (PRODUCT.md §4, §9, §12), and published as
 * {@code schemas/status-v1.schema.json}. Fields that are not known are left
 * out of the file.
 *
 * @param ip        the first IPv4 address found, by the admin's order of sources
 * @param addresses every address found, with where it was learnt
 * @param expires   when the VM halts for good (its course ends), RFC 3339; absent: never
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"name", "owner", "phase", "message", "conditions", "blade", "domain", "uuid", "mac", "ip",
        "addresses", "vcpus", "memory", "template", "image", "expires", "observedSpecHash", "updatedAt"})
public record VmStatus(
        String name,
        Owner owner,
        Phase phase,
        String message,
        List<Condition> conditions,
        String blade,
        String domain,
        String uuid,
        String mac,
        String ip,
        List<Address> addresses,
        Integer vcpus,
        String memory,
        String template,
        String image,
        String expires,
        String observedSpecHash,
        String updatedAt) {

    /** Owner is the student a VM belongs to. */
    public record Owner(String user, int uid) {
    }

    /** Address is one IPv4 address of the VM: which NIC (by MAC) and where it was learnt (lease, agent, arp). */
    @JsonPropertyOrder({"ip", "mac", "source"})
    public record Address(String ip, String mac, String source) {
    }

    /** The condition of {@code type}, or null. */
    public Condition condition(String type) {
        if (conditions == null) {
            return null;
        }
        return conditions.stream().filter(c -> c.type().equals(type)).findFirst().orElse(null);
    }

    /**
     * This status stamped at {@code now}: a condition keeps its transition
     * time from {@code previous} while its status is the same.
     */
    public VmStatus stamped(VmStatus previous, String now) {
        List<Condition> stamped = new ArrayList<>();
        for (Condition c : conditions) {
            Condition before = previous == null ? null : previous.condition(c.type());
            boolean same = before != null && before.status().equals(c.status()) && before.lastTransitionTime() != null;
            stamped.add(c.at(same ? before.lastTransitionTime() : now));
        }
        return new VmStatus(name, owner, phase, message, List.copyOf(stamped), blade, domain, uuid, mac, ip, addresses,
                vcpus, memory, template, image, expires, observedSpecHash, now);
    }

    /** True when this and {@code other} say the same, whatever their times. */
    public boolean sameAs(VmStatus other) {
        return other != null && withoutTimes().equals(other.withoutTimes());
    }

    private VmStatus withoutTimes() {
        List<Condition> plain = new ArrayList<>();
        for (Condition c : conditions == null ? List.<Condition>of() : conditions) {
            plain.add(c.at(null));
        }
        return new VmStatus(name, owner, phase, message, plain, blade, domain, uuid, mac, ip,
                addresses == null ? List.of() : addresses, vcpus, memory, template, image, expires, observedSpecHash,
                null);
    }

    /** The same status with another phase, message and conditions (the planner's rewrite of a failure). */
    public VmStatus with(Phase newPhase, String newMessage, List<Condition> newConditions) {
        return new VmStatus(name, owner, newPhase, newMessage, newConditions, blade, domain, uuid, mac, ip, addresses,
                vcpus, memory, template, image, expires, observedSpecHash, null);
    }
}
