# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# win_nested_dhcp's script (docs/internals/provisioning.md, "DHCP"), for Windows PowerShell 5.1.
# action "inspect" reads the DHCP server's scopes, options and reservations and the named VMs'
# adapters (their MAC addresses); action "apply" runs the planned steps in order.
param($Parameters)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function ConvertTo-Splat($Object) {
    $table = @{}
    if ($null -ne $Object) {
        foreach ($property in $Object.PSObject.Properties) { $table[$property.Name] = $property.Value }
    }
    $table
}

function Invoke-Inspect($Request) {
    $module = [bool](Get-Module -ListAvailable -Name DhcpServer)
    $scopes = @(); $reservations = @()
    if ($module) {
        foreach ($scope in @(DhcpServer\Get-DhcpServerv4Scope)) {
            $options = @(DhcpServer\Get-DhcpServerv4OptionValue -ScopeId $scope.ScopeId)
            $scopes += [ordered]@{
                scope_id = [string]$scope.ScopeId; name = [string]$scope.Name; subnet_mask = [string]$scope.SubnetMask
                start_range = [string]$scope.StartRange; end_range = [string]$scope.EndRange; state = [string]$scope.State
                router = @($options | Where-Object { $_.OptionId -eq 3 } | ForEach-Object { $_.Value } | ForEach-Object { [string]$_ })
                dns_server = @($options | Where-Object { $_.OptionId -eq 6 } | ForEach-Object { $_.Value } | ForEach-Object { [string]$_ })
            }
            foreach ($reservation in @(DhcpServer\Get-DhcpServerv4Reservation -ScopeId $scope.ScopeId)) {
                $reservations += [ordered]@{
                    scope_id = [string]$scope.ScopeId; ip_address = [string]$reservation.IPAddress
                    client_id = ([string]$reservation.ClientId).ToUpperInvariant(); name = [string]$reservation.Name
                }
            }
        }
    }
    $all = @(Hyper-V\Get-VM)
    $vms = @()
    foreach ($name in @($Request.vm_names)) {
        $found = @($all | Where-Object { $_.Name -eq [string]$name })
        if ($found.Count -ne 1) { continue }
        $vms += [ordered]@{
            name = [string]$found[0].Name
            adapters = @(Hyper-V\Get-VMNetworkAdapter -VM $found[0] | ForEach-Object {
                [ordered]@{ name = [string]$_.Name; mac_address = [string]$_.MacAddress; switch_name = [string]$_.SwitchName }
            })
        }
    }
    [ordered]@{
        dhcp_module = $module; scopes = $scopes; reservations = $reservations; vms = $vms
        all_names = @($all | ForEach-Object { [string]$_.Name })
    }
}

function Invoke-Apply($Request) {
    $report = @(); $failedIndex = $null; $index = 0
    $cmdlets = @{ scope = 'DhcpServer\Add-DhcpServerv4Scope'; options = 'DhcpServer\Set-DhcpServerv4OptionValue'
                  reservation = 'DhcpServer\Add-DhcpServerv4Reservation' }
    foreach ($step in @($Request.steps)) {
        if ($null -ne $failedIndex) {
            $report += [ordered]@{ index = $index; status = 'not_run'; message = $null }
            $index++
            continue
        }
        try {
            if (-not $cmdlets.ContainsKey([string]$step.kind)) { throw "Unknown DHCP step '$($step.kind)'." }
            $splat = ConvertTo-Splat $step.parameters
            & $cmdlets[[string]$step.kind] @splat
            $report += [ordered]@{ index = $index; status = 'ok'; message = $null }
        }
        catch {
            $failedIndex = $index
            $report += [ordered]@{ index = $index; status = 'failed'; message = $_.Exception.Message }
        }
        $index++
    }
    [ordered]@{ steps = $report; failed_index = $failedIndex }
}

$result = if ($Parameters.action -eq 'apply') { Invoke-Apply $Parameters } else { Invoke-Inspect $Parameters }
[ordered]@{ ok = $true; result = $result }
