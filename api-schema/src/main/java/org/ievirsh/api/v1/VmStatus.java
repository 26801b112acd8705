package org.ievirsh.api.v1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * VmStatus is what the controller tells a student about one VM, written to
 * {@code .status/<name>.yaml} (the README's "For students"), and published as
 * {@code schemas/status-v1.schema.json}. Fields that are not known are left
 * out of the file.
 *
 * @param ip        the first IPv4 address found, by the admin's order of sources
 * @param addresses every address found, with where it was learnt
 * @param expires   when the VM halts for good (its course ends), RFC 3339; absent: never
 * @param firstBoot {@code cloud-init} when the VM gets a NoCloud seed; absent: none
 * @param course    the course the VM counts against (its student is in the course's group); absent: none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"name", "owner", "phase", "message", "conditions", "blade", "domain", "uuid", "mac", "ip",
        "addresses", "vcpus", "memory", "template", "image", "expires", "firstBoot", "course", "observedSpecHash", "updatedAt"})
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
        String updatedAt,
        String firstBoot,
        String course) {

    /** A status without first-boot news (most VMs, and every test written before it). */
    public VmStatus(String name, Owner owner, Phase phase, String message, List<Condition> conditions, String blade,
                    String domain, String uuid, String mac, String ip, List<Address> addresses, Integer vcpus,
                    String memory, String template, String image, String expires, String observedSpecHash,
                    String updatedAt) {
        this(name, owner, phase, message, conditions, blade, domain, uuid, mac, ip, addresses, vcpus, memory, template,
                image, expires, observedSpecHash, updatedAt, null, null);
    }

    /** A status without a course (a VM of the student's own). */
    public VmStatus(String name, Owner owner, Phase phase, String message, List<Condition> conditions, String blade,
                    String domain, String uuid, String mac, String ip, List<Address> addresses, Integer vcpus,
                    String memory, String template, String image, String expires, String observedSpecHash,
                    String updatedAt, String firstBoot) {
        this(name, owner, phase, message, conditions, blade, domain, uuid, mac, ip, addresses, vcpus, memory, template,
                image, expires, observedSpecHash, updatedAt, firstBoot, null);
    }

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
                vcpus, memory, template, image, expires, observedSpecHash, now, firstBoot, course);
    }

    /** True when this and {@code other} say the same, whatever their times. */
    public boolean sameAs(VmStatus other) {
        // Conditions compared in place (no copy of each without its time, for every VM of every pass); the rest
        // through the canonical constructor, so that a new field is compared too.
        return other != null && sameConditions(conditions, other.conditions)
                && withoutTimesOrConditions().equals(other.withoutTimesOrConditions());
    }

    private VmStatus withoutTimesOrConditions() {
        return new VmStatus(name, owner, phase, message, null, blade, domain, uuid, mac, ip, orEmpty(addresses), vcpus,
                memory, template, image, expires, observedSpecHash, null, firstBoot, course);
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

    /** The same status with {@code condition} added at the end (a condition shown only while it holds). */
    public VmStatus withCondition(Condition condition) {
        List<Condition> more = new ArrayList<>(conditions == null ? List.of() : conditions);
        more.add(condition);
        return with(phase, message, List.copyOf(more)).at(updatedAt);
    }

    private VmStatus at(String time) {
        return new VmStatus(name, owner, phase, message, conditions, blade, domain, uuid, mac, ip, addresses, vcpus,
                memory, template, image, expires, observedSpecHash, time, firstBoot, course);
    }

    /** The same status with another phase, message and conditions (the planner's rewrite of a failure). */
    public VmStatus with(Phase newPhase, String newMessage, List<Condition> newConditions) {
        return new VmStatus(name, owner, newPhase, newMessage, newConditions, blade, domain, uuid, mac, ip, addresses,
                vcpus, memory, template, image, expires, observedSpecHash, null, firstBoot, course);
    }
}
