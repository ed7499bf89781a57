"""The Hyper-V model: hosts, VMs, switches, NAT, guest networking and the rules that bind them."""
