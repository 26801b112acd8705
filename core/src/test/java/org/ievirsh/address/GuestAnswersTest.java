package org.ievirsh.address;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.libvirt.Hypervisor.GuestNic;
import org.junit.jupiter.api.Test;

/** GuestAnswersTest: what of a hostile guest's answer is believed. */
class GuestAnswersTest {
    private static final String ETH0 = "52:54:00:aa:00:01";
    private static final String ETH1 = "52:54:00:aa:00:02";
    private static final List<String> MACS = List.of(ETH0, ETH1);

    @Test
    void onlyTheVmsOwnNicsWithValidAddressesInTheOrderOfItsNics() {
        List<GuestNic> answer = List.of(
                new GuestNic("52:54:00:ff:ff:ff", List.of("10.0.0.66")),           // another VM's MAC
                new GuestNic(ETH1.toUpperCase(), List.of("10.0.1.5", "10.0.1.5")),  // one address once
                new GuestNic(null, List.of("10.0.0.67")),
                new GuestNic("lo", List.of("127.0.0.1")),
                new GuestNic(ETH0, Arrays.asList("10.0.0.5", "127.0.0.2", "256.1.1.1", "10.0.0.05", null,
                        "10.0.0.1\nphase: Running", "1.2.3")),
                new GuestNic(ETH0, null));
        assertEquals(List.of(new VmStatus.Address("10.0.0.5", ETH0, "agent"),
                new VmStatus.Address("10.0.1.5", ETH1, "agent")), GuestAnswers.keep(answer, MACS, "agent"));
    }

    @Test
    void atMostSixteenAddressesOfOneVm() {
        List<String> many = new ArrayList<>(IntStream.range(1, 200).mapToObj(i -> "10.0.0." + i).toList());
        List<VmStatus.Address> kept = GuestAnswers.keep(List.of(new GuestNic(ETH0, many)), MACS, "arp");
        assertEquals(GuestAnswers.MAX_PER_VM, kept.size());
        assertEquals("10.0.0.1", kept.get(0).ip());
    }
}
