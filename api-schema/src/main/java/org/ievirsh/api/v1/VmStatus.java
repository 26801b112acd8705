package org.ievirsh.api.v1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

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
        // Field by field rather than by copies without times: it runs for every VM of every pass.
        return other != null && Objects.equals(name, other.name) && Objects.equals(owner, other.owner)
                && phase == other.phase && Objects.equals(message, other.message)
                && sameConditions(conditions, other.conditions) && Objects.equals(blade, other.blade)
                && Objects.equals(domain, other.domain) && Objects.equals(uuid, other.uuid)
                && Objects.equals(mac, other.mac) && Objects.equals(ip, other.ip)
                && Objects.equals(orEmpty(addresses), orEmpty(other.addresses)) && Objects.equals(vcpus, other.vcpus)
                && Objects.equals(memory, other.memory) && Objects.equals(template, other.template)
                && Objects.equals(image, other.image) && Objects.equals(expires, other.expires)
                && Objects.equals(observedSpecHash, other.observedSpecHash);
    }

    private static boolean sameConditions(List<Condition> a, List<Condition> b) {
        List<Condition> left = orEmpty(a);
        List<Condition> right = orEmpty(b);
        if (left.size() != right.size()) {
            return false;
        }
        for (int i = 0; i < left.size(); i++) {
            Condition x = left.get(i);
            Condition y = right.get(i);
            if (!Objects.equals(x.type(), y.type()) || !Objects.equals(x.status(), y.status())
                    || !Objects.equals(x.reason(), y.reason()) || !Objects.equals(x.message(), y.message())) {
                return false;
            }
        }
        return true;
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }

    /** The same status with another phase, message and conditions (the planner's rewrite of a failure). */
    public VmStatus with(Phase newPhase, String newMessage, List<Condition> newConditions) {
        return new VmStatus(name, owner, newPhase, newMessage, newConditions, blade, domain, uuid, mac, ip, addresses,
                vcpus, memory, template, image, expires, observedSpecHash, null);
    }
}
