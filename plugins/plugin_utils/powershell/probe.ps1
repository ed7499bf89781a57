# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The read-only probe (docs/internals/wire-protocol.md section 2), for Windows PowerShell 5.1.
# Functions return ordered dictionaries only (PowerShell unrolls arrays returned from functions),
# and every list is built with @() where it is stored.
param($Parameters)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$hypervModule = $null -ne (Get-Module -ListAvailable -Name 'Hyper-V')

function Invoke-Quietly([scriptblock]$Block, $Default) {
    try { & $Block } catch { $Default }
}

function Get-CurrentPrincipal {
    New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
}

function Test-Administrator {
    (Get-CurrentPrincipal).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

function Test-HyperVAdministrator {
    $hypervAdmins = New-Object Security.Principal.SecurityIdentifier('S-1-5-32-578')
    (Test-Administrator) -or (Get-CurrentPrincipal).IsInRole($hypervAdmins)
}

function Get-HyperVFeatureState {
    # Get-WindowsOptionalFeature knows EnablePending but needs elevation; the CIM class does not.
    $feature = Invoke-Quietly { Get-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V' } $null
    if ($feature) { return [string]$feature.State }
    $cim = Invoke-Quietly { Get-CimInstance -ClassName Win32_OptionalFeature -Filter "Name='Microsoft-Hyper-V'" } $null
    if (-not $cim) { return 'Unknown' }
    switch ([int]$cim.InstallState) {
        1 { 'Enabled' }
        2 { 'Disabled' }
        3 { 'Disabled' }
        default { 'Unknown' }
    }
}

function Get-BcdNestedDisabled {
    # bcdedit writes to stderr when it may not read the store; under 'Stop' that would throw.
    $ErrorActionPreference = 'Continue'
    try {
        $text = (& bcdedit.exe /enum '{current}' 2>$null) -join "`n"
        if ($LASTEXITCODE -ne 0) { return $null }
        return [bool]($text -match 'OFFERNESTEDVIRT\s*=\s*FALSE')
    }
    catch { return $null }
}

function Get-PlatformFacts {
    # What the host runs on. A VM's virtual firmware names its hypervisor in Manufacturer and Model
    # (Hyper-V: 'Microsoft Corporation' / 'Virtual Machine'); every Azure VM has the SMBIOS asset
    # tag 7783-7084-3265-9085-8269-3286-77. The controller classifies; this only reads.
    $system = Get-CimInstance -ClassName Win32_ComputerSystem
    $enclosure = Invoke-Quietly { @(Get-CimInstance -ClassName Win32_SystemEnclosure)[0] } $null
    $assetTag = $null
    if ($enclosure) { $assetTag = ([string]$enclosure.SMBIOSAssetTag).Trim() }
    [ordered]@{
        manufacturer = ([string]$system.Manufacturer).Trim()
        model = ([string]$system.Model).Trim()
        smbios_asset_tag = $assetTag
    }
}

function Get-NatList {
    # Get-NetNat needs an administrator on some hosts: a refusal reads as no NAT.
    @(Invoke-Quietly { NetNat\Get-NetNat -ErrorAction SilentlyContinue } @() | ForEach-Object {
        [ordered]@{ name = [string]$_.Name; internal_ip_interface_address_prefix = [string]$_.InternalIPInterfaceAddressPrefix }
    })
}

function Get-HostSection {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $system = Get-CimInstance -ClassName Win32_ComputerSystem
    $cpu = @(Get-CimInstance -ClassName Win32_Processor)[0]
    $edition = Invoke-Quietly { (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -Name EditionID).EditionID } $null

    $guard = Invoke-Quietly { Get-CimInstance -Namespace 'root\Microsoft\Windows\DeviceGuard' -ClassName Win32_DeviceGuard } $null
    $vbsStatus = 0
    if ($guard) { $vbsStatus = [int]$guard.VirtualizationBasedSecurityStatus }
    $vbsRegistry = Invoke-Quietly {
        (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\DeviceGuard' -Name EnableVirtualizationBasedSecurity).EnableVirtualizationBasedSecurity
    } $null

    $supported = @()
    $default = $null
    if ($hypervModule) {
        $supported = @(Invoke-Quietly { Hyper-V\Get-VMHostSupportedVersion } @() | ForEach-Object { '{0}.{1}' -f $_.Version.Major, $_.Version.Minor })
        $defaultVersion = Invoke-Quietly { Hyper-V\Get-VMHostSupportedVersion -Default } $null
        if ($defaultVersion) { $default = '{0}.{1}' -f $defaultVersion.Version.Major, $defaultVersion.Version.Minor }
    }

    $isAdmin = Test-Administrator

    # Get-VMHost counts the host's logical processors; Win32_ComputerSystem counts the root
    # partition's, fewer under minroot (Get-VMHost needs Hyper-V Administrators).
    $logicalProcessors = [int]$system.NumberOfLogicalProcessors
    $rootProcessors = $logicalProcessors
    if ($hypervModule) {
        $vmHost = Invoke-Quietly { Hyper-V\Get-VMHost } $null
        if ($vmHost -and [int]$vmHost.LogicalProcessorCount -gt 0) { $logicalProcessors = [int]$vmHost.LogicalProcessorCount }
    }

    # HypervisorPresent is true in every Hyper-V guest (it reports the parent's hypervisor), so in
    # a VM it cannot tell whether this host's own hypervisor runs. The Hyper-V Hypervisor Root
    # Partition counters exist only where this OS is the root partition of a running hypervisor.
    $rootPartition = Invoke-Quietly {
        @(Get-CimInstance -ClassName Win32_PerfRawData_HvStats_HyperVHypervisorRootPartition -ErrorAction Stop).Count -gt 0
    } $null
    $isVirtualMachine = [string]$system.Model -eq 'Virtual Machine'
    $hypervisorRuns = [bool]$system.HypervisorPresent
    if ($isVirtualMachine -or $null -ne $rootPartition) { $hypervisorRuns = [bool]$rootPartition }

    $productType = 'server'
    if ([int]$os.ProductType -eq 1) { $productType = 'client' }

    [ordered]@{
        computer_name = [string]$system.Name
        os = [ordered]@{
            caption = [string]$os.Caption
            product_type = $productType
            edition = $edition
            build = [int]$os.BuildNumber
            version = [string]$os.Version
        }
        processor = [ordered]@{
            manufacturer = [string]$cpu.Manufacturer
            name = ([string]$cpu.Name).Trim()
            virtualization_firmware_enabled = [bool]$cpu.VirtualizationFirmwareEnabled
            vm_monitor_mode_extensions = [bool]$cpu.VMMonitorModeExtensions
            second_level_address_translation = [bool]$cpu.SecondLevelAddressTranslationExtensions
        }
        logical_processor_count = $logicalProcessors
        root_partition_processor_count = $rootProcessors
        memory_capacity_bytes = [int64]$system.TotalPhysicalMemory
        hypervisor_present = $hypervisorRuns
        hypervisor_present_raw = [bool]$system.HypervisorPresent
        hypervisor_root_partition = $rootPartition
        vmms = Get-VmmsState
        hyperv_feature = Get-HyperVFeatureState
        vbs = [ordered]@{
            configured = ($vbsStatus -ge 1) -or ($vbsRegistry -eq 1)
            running = $vbsStatus -eq 2
            status = $vbsStatus
        }
        bcd_offer_nested_virt_disabled = Get-BcdNestedDisabled
        supported_versions = $supported
        default_version = $default
        is_virtual_machine = $isVirtualMachine
        platform = Get-PlatformFacts
        nats = @(Get-NatList)
        is_administrator = $isAdmin
        is_hyperv_administrator = Test-HyperVAdministrator
    }
}

function Get-GuestIntrinsicItems($VM) {
    # What the guest reports through the KVP exchange (OSName, FullyQualifiedDomainName, ...), by
    # item name; only a running VM with the service has it. Read-only, never throws.
    $items = @{}
    if ([string]$VM.State -ne 'Running') { return $items }
    try {
        $system = Get-CimInstance -Namespace 'root\virtualization\v2' -ClassName Msvm_ComputerSystem -Filter ("Name='{0}'" -f $VM.Id.Guid)
        $kvp = Get-CimAssociatedInstance -InputObject $system -ResultClassName Msvm_KvpExchangeComponent
        foreach ($item in @($kvp.GuestIntrinsicExchangeItems)) {
            $xml = [xml]$item
            $name = $xml.SelectSingleNode("/INSTANCE/PROPERTY[@NAME='Name']/VALUE")
            $data = $xml.SelectSingleNode("/INSTANCE/PROPERTY[@NAME='Data']/VALUE")
            if ($name -and $data) { $items[[string]$name.InnerText] = [string]$data.InnerText }
        }
    }
    catch { }
    $items
}

function Get-RestartMark($VM) {
    # wire-protocol.md section 3.1. Never throws: a mark that exists but cannot be read or parsed
    # is reported without its time. Reads only.
    try {
        $path = Get-RestartMarkPath $VM
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { return $null }
    }
    catch { return $null }
    $stoppedAt = $null
    try {
        # -Encoding UTF8 skips the byte order mark that Set-Content -Encoding UTF8 writes in 5.1.
        $mark = ConvertFrom-Json -InputObject (Get-Content -LiteralPath $path -Raw -Encoding UTF8 -ErrorAction Stop)
        $value = $mark.stopped_at
        if ($value -is [datetime]) {
            # PowerShell 6+ turns ISO-8601 strings into dates; 5.1 leaves them strings.
            $stoppedAt = $value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture)
        }
        elseif ($value -is [string] -and $value.Length -gt 0) {
            $stoppedAt = $value
        }
    }
    catch { $stoppedAt = $null }
    [ordered]@{ stopped_at = $stoppedAt }
}

function Get-VMFacts($VM) {
    $kvp = Get-GuestIntrinsicItems $VM
    $processor = Hyper-V\Get-VMProcessor -VM $VM
    $memory = Hyper-V\Get-VMMemory -VM $VM
    $security = Invoke-Quietly { Hyper-V\Get-VMSecurity -VM $VM } $null
    $optOut = $null
    if ($security -and $security.PSObject.Properties['VirtualizationBasedSecurityOptOut']) {
        $optOut = [bool]$security.VirtualizationBasedSecurityOptOut
    }
    [ordered]@{
        name = [string]$VM.Name
        id = [string]$VM.Id
        state = [string]$VM.State
        generation = [int]$VM.Generation
        version = [string]$VM.Version
        processor_count = [int]$processor.Count
        expose_virtualization_extensions = [bool]$processor.ExposeVirtualizationExtensions
        dynamic_memory_enabled = [bool]$memory.DynamicMemoryEnabled
        memory_assigned_bytes = [int64]$VM.MemoryAssigned
        startup_memory_bytes = [int64]$memory.Startup
        minimum_memory_bytes = [int64]$memory.Minimum
        maximum_memory_bytes = [int64]$memory.Maximum
        checkpoints = @(Hyper-V\Get-VMSnapshot -VM $VM | ForEach-Object { [ordered]@{ name = [string]$_.Name; id = [string]$_.Id } })
        adapters = @(Hyper-V\Get-VMNetworkAdapter -VM $VM | ForEach-Object {
            [ordered]@{
                name = [string]$_.Name
                id = [string]$_.Id
                switch_name = $_.SwitchName
                mac_address = [string]$_.MacAddress
                mac_address_spoofing = [string]$_.MacAddressSpoofing
                # The guest's addresses as it reports them through the KVP exchange (empty when it does not).
                ip_addresses = @($_.IPAddresses | Where-Object { $_ } | ForEach-Object { [string]$_ })
            }
        })
        # Told apart by the GUID in their Id, and their status by its enum name: Name and
        # PrimaryStatusDescription are localised ("Takt" is Heartbeat on a German host).
        integration_services = @(Hyper-V\Get-VMIntegrationService -VM $VM | ForEach-Object {
            [ordered]@{
                name = Get-IntegrationServiceName $_
                id = Get-IntegrationServiceKey $_
                display_name = [string]$_.Name
                enabled = [bool]$_.Enabled
                primary_status = [string]$_.PrimaryOperationalStatus
            }
        })
        virtualization_based_security_opt_out = $optOut
        is_clustered = [bool]$VM.IsClustered
        guest_os = $kvp['OSName']
        guest_dns_name = $kvp['FullyQualifiedDomainName']
        notes = [string]$VM.Notes
        restart_mark = Get-RestartMark $VM
    }
}

function Get-VmmsState {
    # The Virtual Machine Management service by its service name (not localised): 'Absent' where
    # only the management tools are installed, 'Stopped' (or another state) while the role waits
    # for a restart or the service is down.
    $service = Invoke-Quietly { Get-Service -Name 'vmms' -ErrorAction Stop } $null
    if ($null -eq $service) { return 'Absent' }
    [string]$service.Status
}

function Get-VMEntry($VM) {
    # One VM in a bad state (Off-Critical, a configuration that cannot be read) must not fail the
    # whole probe: its entry carries the error instead of its settings.
    try { Get-VMFacts $VM }
    catch {
        [ordered]@{
            name = [string]$VM.Name
            id = [string]$VM.Id
            state = [string]$VM.State
            error = $_.Exception.Message
        }
    }
}

function Get-VMsSection($Requested) {
    if (-not $hypervModule) {
        return [ordered]@{ hyperv_module = $false; missing = @(); duplicates = @(); all_names = @(); vms = @() }
    }
    try { $all = @(Hyper-V\Get-VM) }
    catch {
        $reason = $_.Exception.Message
        if (-not (Test-HyperVAdministrator)) {
            # Not allowed to see VMs: the host section says why (is_hyperv_administrator false).
            return [ordered]@{ hyperv_module = $true; access_denied = $reason; missing = @(); duplicates = @(); all_names = @(); vms = @() }
        }
        $vmms = Get-VmmsState
        if ($vmms -ne 'Running') {
            # The module is there but no service answers: the role waits for a restart, or only the
            # management tools are installed. The host section's hyperv_feature and vmms say which.
            return [ordered]@{ hyperv_module = $true; service_unavailable = $reason; vmms = $vmms; missing = @(); duplicates = @(); all_names = @(); vms = @() }
        }
        $needs = 'Listing VMs needs the Hyper-V service running and an account in Hyper-V Administrators or Administrators.'
        throw "Could not list the virtual machines: $reason ($needs)"
    }
    $missing = @()
    $duplicates = @()
    $selected = $all
    if ($null -ne $Requested) {
        foreach ($name in $Requested) {
            $count = @($all | Where-Object { $_.Name -eq $name }).Count
            if ($count -eq 0) { $missing += $name }
            elseif ($count -gt 1) { $duplicates += $name }
        }
        # -contains compares exactly (case-insensitively), never as a wildcard.
        $selected = @($all | Where-Object { $Requested -contains $_.Name })
    }
    [ordered]@{
        hyperv_module = $true
        missing = @($missing)
        duplicates = @($duplicates)
        all_names = @($all | ForEach-Object { [string]$_.Name })
        vms = @($selected | ForEach-Object { Get-VMEntry $_ })
    }
}

function Get-MappingFirewallRules {
    # Only the rules win_nested_nat creates for its port mappings: this fixed group, never user data.
    # A missing group is an error of Get-NetFirewallRule ("No MSFT_NetFirewallRule objects found").
    $rules = @(Invoke-Quietly { NetSecurity\Get-NetFirewallRule -Group 'hyperv.nested NAT port mappings' -ErrorAction SilentlyContinue } @())
    @($rules | ForEach-Object {
        $rule = $_
        $ports = Invoke-Quietly { NetSecurity\Get-NetFirewallPortFilter -AssociatedNetFirewallRule $rule -ErrorAction Stop } $null
        $addresses = Invoke-Quietly { NetSecurity\Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $rule -ErrorAction Stop } $null
        $protocol = $null
        $localPorts = @()
        $localAddresses = @()
        if ($ports) {
            $protocol = [string]$ports.Protocol
            $localPorts = @(@($ports.LocalPort) | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
        }
        if ($addresses) {
            $localAddresses = @(@($addresses.LocalAddress) | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
        }
        [ordered]@{
            name = [string]$rule.Name
            display_name = [string]$rule.DisplayName
            enabled = [string]$rule.Enabled -eq 'True'
            direction = [string]$rule.Direction
            action = [string]$rule.Action
            protocol = $protocol
            local_port = $localPorts
            local_address = $localAddresses
        }
    })
}

function Get-SwitchHostInterfaceIndex($Switch, $VNics, $NetAdapters) {
    # The switch's adapter in the management OS, through the switch itself (its management-OS
    # network adapter's MAC address), never by the alias "vEthernet (<switch>)", which Windows
    # suffixes with " 2" when the name is taken. $null when it has none (external without
    # AllowManagementOS, private).
    $vnic = @($VNics | Where-Object { $_.SwitchId -eq $Switch.Id })
    if ($vnic.Count -lt 1) { return $null }
    $mac = ([string]$vnic[0].MacAddress) -replace '[^0-9A-Fa-f]', ''
    $adapter = @($NetAdapters | Where-Object { (([string]$_.MacAddress) -replace '[^0-9A-Fa-f]', '') -eq $mac })
    if ($adapter.Count -ne 1) { return $null }
    [int]$adapter[0].ifIndex
}

function Get-NetworkSection {
    $switches = @()
    $serviceUnavailable = $null
    if ($hypervModule) {
        try { $found = @(Hyper-V\Get-VMSwitch) }
        catch {
            # Without a running Virtual Machine Management service there is nothing to list (as in Get-VMsSection).
            if ((Get-VmmsState) -eq 'Running') { throw }
            $serviceUnavailable = $_.Exception.Message
            $found = @()
        }
        $vnics = @(Invoke-Quietly { Hyper-V\Get-VMNetworkAdapter -ManagementOS -ErrorAction Stop } @())
        $netAdapters = @(Invoke-Quietly { NetAdapter\Get-NetAdapter -ErrorAction Stop } @())
        $switches = @($found | ForEach-Object {
            [ordered]@{
                name = [string]$_.Name
                switch_type = [string]$_.SwitchType
                net_adapter_interface_description = $_.NetAdapterInterfaceDescription
                host_interface_index = Get-SwitchHostInterfaceIndex $_ $vnics $netAdapters
            }
        })
    }
    [ordered]@{
        hyperv_module = $hypervModule
        service_unavailable = $serviceUnavailable
        switches = $switches
        nats = @(Get-NatList)
        static_mappings = @(Invoke-Quietly { NetNat\Get-NetNatStaticMapping -ErrorAction SilentlyContinue } @() | ForEach-Object {
            [ordered]@{
                nat_name = [string]$_.NatName
                static_mapping_id = [int]$_.StaticMappingID
                protocol = [string]$_.Protocol
                external_ip_address = [string]$_.ExternalIPAddress
                external_port = [int]$_.ExternalPort
                internal_ip_address = [string]$_.InternalIPAddress
                internal_port = [int]$_.InternalPort
            }
        })
        ip_addresses = @(NetTCPIP\Get-NetIPAddress | ForEach-Object {
            [ordered]@{
                interface_alias = [string]$_.InterfaceAlias
                interface_index = [int]$_.InterfaceIndex
                ip_address = [string]$_.IPAddress
                prefix_length = [int]$_.PrefixLength
                address_family = [string]$_.AddressFamily
                prefix_origin = [string]$_.PrefixOrigin
            }
        })
        adapters = @(NetAdapter\Get-NetAdapter | ForEach-Object {
            [ordered]@{ name = [string]$_.Name; interface_index = [int]$_.ifIndex; status = [string]$_.Status; mac_address = [string]$_.MacAddress }
        })
        firewall_rules = @(Get-MappingFirewallRules)
    }
}

# Runs inside the guest through PowerShell Direct; answers JSON text so that the shape survives
# remoting's serialisation unchanged.
$guestAdapters = {
    $ErrorActionPreference = 'Stop'
    $found = @()
    foreach ($adapter in @(NetAdapter\Get-NetAdapter)) {
        $index = [int]$adapter.ifIndex
        $ipv4 = @(NetTCPIP\Get-NetIPAddress -InterfaceIndex $index -AddressFamily IPv4 -ErrorAction SilentlyContinue | ForEach-Object {
            [ordered]@{ ip_address = [string]$_.IPAddress; prefix_length = [int]$_.PrefixLength; prefix_origin = [string]$_.PrefixOrigin }
        })
        $route = @(NetTCPIP\Get-NetRoute -InterfaceIndex $index -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue)
        $gateway = $null
        if ($route.Count -gt 0) { $gateway = [string]$route[0].NextHop }
        $dns = @(DnsClient\Get-DnsClientServerAddress -InterfaceIndex $index -AddressFamily IPv4 -ErrorAction SilentlyContinue |
            ForEach-Object { $_.ServerAddresses } | Where-Object { $_ } | ForEach-Object { [string]$_ })
        $interface = NetTCPIP\Get-NetIPInterface -InterfaceIndex $index -AddressFamily IPv4 -ErrorAction SilentlyContinue
        $found += [ordered]@{
            interface_alias = [string]$adapter.Name
            interface_index = $index
            mac_address = [string]$adapter.MacAddress
            ipv4 = $ipv4
            default_gateway = $gateway
            dns_servers = $dns
            dhcp = [string]$interface.Dhcp -eq 'Enabled'
        }
    }
    ConvertTo-Json -InputObject @($found) -Depth 6 -Compress
}

function Get-GuestFacts($Guest) {
    $entry = [ordered]@{ vm = [string]$Guest.vm; state = $null; reachable = $false; error = $null; adapters = @() }
    $found = @(Get-ExactVM ([string]$Guest.vm))
    if ($found.Count -ne 1) {
        $entry.error = "There is no single virtual machine named '$($Guest.vm)' on this host (found $($found.Count))."
        return $entry
    }
    $entry.state = [string]$found[0].State
    if ($entry.state -ne 'Running') {
        $entry.error = "The virtual machine is not running (it is $($entry.state))."
        return $entry
    }
    try {
        # Character by character: passed to ConvertTo-SecureString -String, the password would be
        # in the parameter bindings that module logging records (event 4103).
        $secure = New-Object System.Security.SecureString
        foreach ($character in ([string]$Guest.password).ToCharArray()) { $secure.AppendChar($character) }
        $secure.MakeReadOnly()
        $credential = New-Object System.Management.Automation.PSCredential([string]$Guest.username, $secure)
        $json = Invoke-Command -VMId $found[0].Id -Credential $credential -ScriptBlock $guestAdapters -ErrorAction Stop
        $parsed = ConvertFrom-Json -InputObject ([string]$json)
        if ($null -ne $parsed) { $entry.adapters = @($parsed) }
        $entry.reachable = $true
    }
    catch {
        $entry.error = "PowerShell Direct to the virtual machine failed: $($_.Exception.Message)"
    }
    $entry
}

function Read-SectionIfAvailable($Result, [string]$Name, [scriptblock]$Read) {
    # The *_if_available sections (a host's own read, which must answer before Hyper-V runs there):
    # the section as usual, or its absence with the reason, instead of failing the whole probe.
    try { $Result[$Name] = & $Read }
    catch { $Result[$Name + '_unavailable'] = $_.Exception.Message }
}

$requestedNames = $null
if ($null -ne $Parameters.vm_names) { $requestedNames = @($Parameters.vm_names | ForEach-Object { [string]$_ }) }

$result = [ordered]@{}
foreach ($section in @($Parameters.sections)) {
    switch ([string]$section) {
        'host' { $result['host'] = Get-HostSection }
        'vms' { $result['vms'] = Get-VMsSection $requestedNames }
        'network' { $result['network'] = Get-NetworkSection }
        'platform' { $result['platform'] = Get-PlatformFacts }
        # A foreach statement, not Where-Object / ForEach-Object: module logging would record each
        # guest, its password included, as a pipeline input binding (event 4103).
        'guests' { $result['guests'] = @(foreach ($guest in @($Parameters.guests)) { if ($null -ne $guest) { Get-GuestFacts $guest } }) }
        'network_if_available' { Read-SectionIfAvailable $result 'network' { Get-NetworkSection } }
        'guests_if_available' { Read-SectionIfAvailable $result 'guests' { , @(foreach ($guest in @($Parameters.guests)) { if ($null -ne $guest) { Get-GuestFacts $guest } }) } }
        default { throw "Unknown probe section '$section'." }
    }
}
[ordered]@{ ok = $true; result = $result }
